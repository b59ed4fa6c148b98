"""Lark grammar files for the policy expression language (package data)."""
