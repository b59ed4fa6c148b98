// Canonical rendering of a C# value for the differential oracle (see scripts/oracle/generate.py).
// tests/oracle/render.py renders the engine's values the same way; keep the two in step.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Xml.Linq;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

static class Render
{
    public static string TypeName(Type t)
    {
        if (t.IsArray) return TypeName(t.GetElementType()) + "[]";
        if (t.IsGenericType)
        {
            string name = t.Name;
            int tick = name.IndexOf('`');
            if (tick >= 0) name = name.Substring(0, tick);
            return name + "<" + string.Join(",", t.GetGenericArguments().Select(TypeName)) + ">";
        }
        return t.Name;
    }

    static string Quote(string s, char q)
    {
        var sb = new StringBuilder();
        sb.Append(q);
        foreach (char c in s)
        {
            if (c == '\\' || c == q) { sb.Append('\\').Append(c); }
            else if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4"));
            else sb.Append(c);
        }
        sb.Append(q);
        return sb.ToString();
    }

    static string Real(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "Infinity";
        if (double.IsNegativeInfinity(d)) return "-Infinity";
        if (d == 0 && BitConverter.DoubleToInt64Bits(d) != 0) return "-0";
        return d.ToString("R", CultureInfo.InvariantCulture);
    }

    public static string Value(object v, int depth = 0)
    {
        if (v == null) return "null";
        if (depth > 6) return "...";
        if (v is string) return Quote((string)v, '"');
        if (v is char) return Quote(v.ToString(), '\'');
        if (v is bool) return (bool)v ? "True" : "False";
        if (v is double) return Real((double)v);
        if (v is float) return Real((double)(float)v);
        if (v is decimal) return ((decimal)v).ToString(CultureInfo.InvariantCulture);
        if (v is DateTime) { var dt = (DateTime)v; return "DateTime(" + dt.Ticks + "," + dt.Kind + ")"; }
        if (v is DateTimeOffset) { var dto = (DateTimeOffset)v; return "DateTimeOffset(" + dto.Ticks + "," + dto.Offset.Ticks + ")"; }
        if (v is TimeSpan) return "TimeSpan(" + ((TimeSpan)v).Ticks + ")";
        if (v is Guid) return ((Guid)v).ToString("D");
        if (v is JToken) { var tok = (JToken)v; return tok.Type + ":" + tok.ToString(Formatting.None); }
        if (v is XObject || v is Uri || v is StringBuilder) return Quote(v.ToString(), '"');
        if (v is IDictionary)
        {
            var parts = new List<string>();
            foreach (DictionaryEntry e in (IDictionary)v) parts.Add(Value(e.Key, depth + 1) + ": " + Value(e.Value, depth + 1));
            return "{" + string.Join(", ", parts) + "}";
        }
        if (v is IEnumerable)
        {
            var parts = new List<string>();
            foreach (object o in (IEnumerable)v)
            {
                if (parts.Count >= 50) { parts.Add("..."); break; }
                parts.Add(Value(o, depth + 1));
            }
            return "[" + string.Join(", ", parts) + "]";
        }
        Type t = v.GetType();
        if (t.IsEnum) return v.ToString();
        if (t.IsPrimitive) return Convert.ToString(v, CultureInfo.InvariantCulture);
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(KeyValuePair<,>))
            return "[" + Value(t.GetProperty("Key").GetValue(v), depth + 1) + ", " + Value(t.GetProperty("Value").GetValue(v), depth + 1) + "]";
        if (t.FullName.StartsWith("System.Tuple`") || t.FullName.StartsWith("System.ValueTuple`"))
            return "(" + string.Join(", ", t.GetFields().Select(p => Value(p.GetValue(v), depth + 1)).Concat(
                t.GetProperties().Where(p => p.Name.StartsWith("Item")).Select(p => Value(p.GetValue(v), depth + 1)))) + ")";
        return Quote(v.ToString(), '"');
    }

    public static void Run(int id, Func<object> f)
    {
        string line;
        try
        {
            object v = f();
            line = id + "\t" + (v == null ? "null" : TypeName(v.GetType())) + "\t" + Value(v);
        }
        catch (Exception e)
        {
            line = id + "\t!\t" + e.GetType().Name;
        }
        Console.Out.Write(line + "\n");
    }
}
