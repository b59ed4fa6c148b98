""".NET exception types raised by the runtime library.

Every error caused by bad user input inside an expression is a :class:`DotNetException`
subclass named like its .NET counterpart, carrying a .NET-like ``Message``. The expression
compiler turns these into ``ExpressionError`` with the span of the failing call.
"""

from __future__ import annotations

from typing import Any


class DotNetException(Exception):
    """Base of all .NET-like exceptions (``System.Exception``)."""

    dotnet_name = "System.Exception"

    def __init__(self, message: str | None = None, inner: BaseException | None = None) -> None:
        self._message = message if message is not None else self.default_message()
        self._inner = inner
        super().__init__(self._message)

    @classmethod
    def default_message(cls) -> str:
        return f"Exception of type '{cls.dotnet_name}' was thrown."

    @property
    def Message(self) -> str:
        return self._message

    @property
    def InnerException(self) -> BaseException | None:
        return self._inner

    def GetBaseException(self) -> BaseException:
        """The innermost exception of the InnerException chain (this one when it has none)."""
        found: BaseException = self
        while isinstance(found, DotNetException) and found._inner is not None:
            found = found._inner
        return found

    def GetType(self) -> str:
        return self.dotnet_name

    def ToString(self) -> str:
        return f"{self.dotnet_name}: {self._message}"

    def __str__(self) -> str:
        return self._message


class SystemException(DotNetException):
    """``System.SystemException``."""

    dotnet_name = "System.SystemException"

    @classmethod
    def default_message(cls) -> str:
        return "System error."


class ArgumentException(SystemException):
    """``System.ArgumentException``; the message ends with ``(Parameter 'name')`` like .NET Core."""

    dotnet_name = "System.ArgumentException"

    def __init__(self, message: str | None = None, param_name: str | None = None) -> None:
        self._param = param_name
        if message is None:
            message = "Value does not fall within the expected range."
        if param_name:
            message = f"{message} (Parameter '{param_name}')"
        super().__init__(message)

    @property
    def ParamName(self) -> str | None:
        return self._param


class ArgumentNullException(ArgumentException):
    """``System.ArgumentNullException``."""

    dotnet_name = "System.ArgumentNullException"

    def __init__(self, param_name: str | None = None, message: str | None = None) -> None:
        super().__init__(message or "Value cannot be null.", param_name)


class ArgumentOutOfRangeException(ArgumentException):
    """``System.ArgumentOutOfRangeException``."""

    dotnet_name = "System.ArgumentOutOfRangeException"

    def __init__(self, param_name: str | None = None, message: Any = None, *actual_then_message: Any) -> None:
        self._actual = None
        if actual_then_message:  # `(paramName, actualValue, message)`: .NET adds "Actual value was 5."
            self._actual, message = message, actual_then_message[0]
        super().__init__(message or "Specified argument was out of the range of valid values.", param_name)
        if self._actual is not None:
            from .conversions import to_string

            self._message += f"\r\nActual value was {to_string(self._actual)}."

    @property
    def ActualValue(self) -> Any:
        return self._actual


class FormatException(SystemException):
    """``System.FormatException``."""

    dotnet_name = "System.FormatException"

    @classmethod
    def default_message(cls) -> str:
        return "One of the identified items was in an invalid format."


class InvalidCastException(SystemException):
    """``System.InvalidCastException``."""

    dotnet_name = "System.InvalidCastException"

    @classmethod
    def default_message(cls) -> str:
        return "Specified cast is not valid."


class InvalidOperationException(SystemException):
    """``System.InvalidOperationException``."""

    dotnet_name = "System.InvalidOperationException"

    @classmethod
    def default_message(cls) -> str:
        return "Operation is not valid due to the current state of the object."


class NullReferenceException(SystemException):
    """``System.NullReferenceException``."""

    dotnet_name = "System.NullReferenceException"

    @classmethod
    def default_message(cls) -> str:
        return "Object reference not set to an instance of an object."


class IndexOutOfRangeException(SystemException):
    """``System.IndexOutOfRangeException``."""

    dotnet_name = "System.IndexOutOfRangeException"

    @classmethod
    def default_message(cls) -> str:
        return "Index was outside the bounds of the array."


class ArithmeticException(SystemException):
    """``System.ArithmeticException``."""

    dotnet_name = "System.ArithmeticException"

    @classmethod
    def default_message(cls) -> str:
        return "Overflow or underflow in the arithmetic operation."


class OverflowException(ArithmeticException):
    """``System.OverflowException``."""

    dotnet_name = "System.OverflowException"

    @classmethod
    def default_message(cls) -> str:
        return "Arithmetic operation resulted in an overflow."


class DivideByZeroException(ArithmeticException):
    """``System.DivideByZeroException``."""

    dotnet_name = "System.DivideByZeroException"

    @classmethod
    def default_message(cls) -> str:
        return "Attempted to divide by zero."


class NotSupportedException(SystemException):
    """``System.NotSupportedException``."""

    dotnet_name = "System.NotSupportedException"

    @classmethod
    def default_message(cls) -> str:
        return "Specified method is not supported."


class NotImplementedException(SystemException):
    """``System.NotImplementedException``."""

    dotnet_name = "System.NotImplementedException"

    @classmethod
    def default_message(cls) -> str:
        return "The method or operation is not implemented."


class KeyNotFoundException(SystemException):
    """``System.Collections.Generic.KeyNotFoundException``."""

    dotnet_name = "System.Collections.Generic.KeyNotFoundException"

    @classmethod
    def default_message(cls) -> str:
        return "The given key was not present in the dictionary."


class UriFormatException(FormatException):
    """``System.UriFormatException``."""

    dotnet_name = "System.UriFormatException"


class RegexMatchTimeoutException(SystemException):
    """``System.Text.RegularExpressions.RegexMatchTimeoutException``."""

    dotnet_name = "System.Text.RegularExpressions.RegexMatchTimeoutException"

    @classmethod
    def default_message(cls) -> str:
        return "The RegEx engine has timed out while trying to match a pattern to an input string."


class RegexParseException(ArgumentException):
    """``System.Text.RegularExpressions.RegexParseException``."""

    dotnet_name = "System.Text.RegularExpressions.RegexParseException"


class CryptographicException(SystemException):
    """``System.Security.Cryptography.CryptographicException``."""

    dotnet_name = "System.Security.Cryptography.CryptographicException"

    @classmethod
    def default_message(cls) -> str:
        return "Error occurred during a cryptographic operation."


class JsonException(DotNetException):
    """``Newtonsoft.Json.JsonException``."""

    dotnet_name = "Newtonsoft.Json.JsonException"


class JsonReaderException(JsonException):
    """``Newtonsoft.Json.JsonReaderException``."""

    dotnet_name = "Newtonsoft.Json.JsonReaderException"


class JsonSerializationException(JsonException):
    """``Newtonsoft.Json.JsonSerializationException``."""

    dotnet_name = "Newtonsoft.Json.JsonSerializationException"


class XmlException(SystemException):
    """``System.Xml.XmlException``."""

    dotnet_name = "System.Xml.XmlException"

    @classmethod
    def default_message(cls) -> str:
        return "An XML error has occurred."


def from_python(exc: BaseException) -> DotNetException:
    """The .NET exception a Python exception escaping the runtime library stands for.

    The library raises .NET exceptions for bad input; whatever Python raises instead (a decimal
    context signal, an arithmetic overflow, a call our library does not model) must still reach
    callers and `context.LastError.Message` as .NET text, never as a Python class name.
    """
    import decimal

    if isinstance(exc, DotNetException):
        return exc
    if isinstance(exc, (ZeroDivisionError, decimal.DivisionByZero)):
        return DivideByZeroException()
    if isinstance(exc, (decimal.Overflow, decimal.InvalidOperation)):
        return OverflowException("Value was either too large or too small for a Decimal.")
    if isinstance(exc, (OverflowError, ArithmeticError)):
        return OverflowException()
    if isinstance(exc, IndexError):
        return IndexOutOfRangeException()
    if isinstance(exc, (AttributeError, TypeError)):  # a member or call form the runtime library does not model
        return NotSupportedException()
    if isinstance(exc, UnicodeError):
        return ArgumentException("The input is not a valid encoded string.")
    return InvalidOperationException()


__all__ = [
    "ArgumentException",
    "ArgumentNullException",
    "ArgumentOutOfRangeException",
    "ArithmeticException",
    "CryptographicException",
    "DivideByZeroException",
    "DotNetException",
    "FormatException",
    "IndexOutOfRangeException",
    "InvalidCastException",
    "InvalidOperationException",
    "JsonException",
    "JsonReaderException",
    "JsonSerializationException",
    "KeyNotFoundException",
    "NotImplementedException",
    "NotSupportedException",
    "NullReferenceException",
    "OverflowException",
    "RegexMatchTimeoutException",
    "RegexParseException",
    "SystemException",
    "UriFormatException",
    "XmlException",
    "from_python",
]
