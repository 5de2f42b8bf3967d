"""NumPy dtypes as CUDA C types, and Python values as CUDA C literals."""
import numpy as np

C_TYPES = {
    "bool": "bool", "int8": "signed char", "uint8": "unsigned char",
    "int16": "short", "uint16": "unsigned short", "int32": "int", "uint32": "unsigned int",
    "int64": "long long", "uint64": "unsigned long long",
    "float32": "float", "float64": "double",
}


def supported(dtype):
    """Whether generated kernels handle ``dtype`` (float16 and complex go elsewhere)."""
    return str(dtype) in C_TYPES


def c_type(dtype):
    """The CUDA C type of ``dtype``; TypeError for a dtype kernels do not handle."""
    try:
        return C_TYPES[str(dtype)]
    except KeyError:
        raise TypeError(f"cupy backend: no CUDA C type for dtype {dtype}") from None


def is_float(dtype):
    return str(dtype) in ("float32", "float64")


def literal(value, dtype):
    """``value`` written as a CUDA C literal of ``dtype`` (inf and nan included)."""
    dtype = str(dtype)
    v = np.asarray(value, dtype=dtype).item()
    if dtype == "bool":
        return "true" if v else "false"
    if not is_float(dtype):
        suffix = {"int64": "LL", "uint64": "ULL", "uint32": "U"}.get(dtype, "")
        if dtype == "int64" and v == np.iinfo("int64").min:
            return "(-9223372036854775807LL - 1)"
        return f"(({c_type(dtype)}){v}{suffix})"
    if np.isnan(v) or np.isinf(v):  # from the bits: NVRTC has no INFINITY or NAN macro
        bits = np.asarray(v, dtype=dtype).view("u4" if dtype == "float32" else "u8").item()
        if dtype == "float32":
            return f"__int_as_float({int(np.uint32(bits).view(np.int32))})"
        return f"__longlong_as_double({int(np.uint64(bits).view(np.int64))}LL)"
    text = repr(float(v))
    if "e" not in text and "." not in text:
        text += ".0"
    return f"({text}f)" if dtype == "float32" else f"({text})"
