/* The Internet checksum's ones' complement sum (RFC 1071) in C: the compiled twin of
 * nodes/wire/checksum.py's ones_sum, which stays the tested pure-Python fallback
 * (tests/unit/test_wire_checksum_c.py compares the two). Built into the wheel by
 * setup.py (optional: without a compiler the wheel is pure), never in place.
 *
 * ones_sum(data, initial=0) -> int: the 16-bit ones' complement sum of data (any
 * buffer; an odd length is padded with a zero byte) added to initial (a non-negative
 * partial sum, folded or not), folded to 16 bits, not complemented. Same results as
 * the Python version for every input: both give the unique value in 1..0xFFFF with the
 * right residue mod 0xFFFF, or 0 when data and initial are all zero.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static uint64_t
sum_words(const unsigned char *p, Py_ssize_t n)
{
    /* Native-order 32-bit words into a 64-bit accumulator (no overflow below 2**32
     * words); the ones' complement sum is byte-order independent (RFC 1071 2.B), so the
     * result is swapped to network order once, at the end. */
    uint64_t acc = 0;
    uint32_t w;
    while (n >= 32) {
        uint32_t a, b, c, d, e, f, g, h;
        memcpy(&a, p, 4); memcpy(&b, p + 4, 4); memcpy(&c, p + 8, 4); memcpy(&d, p + 12, 4);
        memcpy(&e, p + 16, 4); memcpy(&f, p + 20, 4); memcpy(&g, p + 24, 4);
        memcpy(&h, p + 28, 4);
        acc += (uint64_t)a + b + c + d + e + f + g + h;
        p += 32;
        n -= 32;
    }
    while (n >= 4) {
        memcpy(&w, p, 4);
        acc += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t s;
        memcpy(&s, p, 2);
        acc += s;
        p += 2;
        n -= 2;
    }
    if (n) {
        /* the odd byte is the high byte of a big-endian word padded with zero */
        uint16_t s = 0;
        memcpy(&s, p, 1);
        acc += s;
    }
    /* fold to 16 bits in native order */
    while (acc >> 16)
        acc = (acc & 0xFFFF) + (acc >> 16);
#if PY_BIG_ENDIAN
    return acc;
#else
    return ((acc & 0xFF) << 8) | (acc >> 8);
#endif
}

static PyObject *
ones_sum(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    uint64_t initial = 0;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "ones_sum(data, initial=0)");
        return NULL;
    }
    if (nargs == 2) {
        initial = PyLong_AsUnsignedLongLong(args[1]);
        if (initial == (uint64_t)-1 && PyErr_Occurred())
            return NULL;
        if (initial >> 62) {
            PyErr_SetString(PyExc_OverflowError, "initial must be below 2**62");
            return NULL;
        }
    }
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    uint64_t total = sum_words((const unsigned char *)view.buf, view.len);
    PyBuffer_Release(&view);
    total += initial;
    while (total >> 16)
        total = (total & 0xFFFF) + (total >> 16);
    return PyLong_FromUnsignedLong((unsigned long)total);
}

static PyMethodDef methods[] = {
    {"ones_sum", (PyCFunction)(void (*)(void))ones_sum, METH_FASTCALL,
     "ones_sum(data, initial=0) -> int: the folded 16-bit ones' complement sum."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "nodes.wire._checksum",
    "The Internet checksum's ones' complement sum in C (see checksum.py).", -1, methods,
};

PyMODINIT_FUNC
PyInit__checksum(void)
{
    return PyModule_Create(&module);
}
