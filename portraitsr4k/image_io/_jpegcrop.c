/*
 * Lossless JPEG crop through libjpeg's transcoding API (what `jpegtran -crop` does).
 *
 * The source's quantised DCT coefficients are read with jpeg_read_coefficients, the blocks of
 * an iMCU-aligned window are copied into new coefficient arrays, and jpeg_write_coefficients
 * writes them with the source's quantisation tables and sampling factors: no IDCT, no
 * re-quantisation, so every 8x8 block of the crop is bit-identical to the source's block.
 *
 * Robustness: libjpeg reports errors through error_exit, which by default calls exit(). Here
 * error_exit and warnings (emit_message with level -1: corrupt or truncated data, which
 * libjpeg would otherwise paper over with grey blocks) longjmp back to the caller, which
 * raises a Python exception. Nothing is ever printed to stderr.
 *
 * Python API (wrapped by portraitsr4k.image_io.jpeg_crop, which validates arguments first):
 *   header(data) -> dict
 *   crop(data, x0, y0, width, height, keep_icc, keep_exif, optimize) -> bytes
 *   coefficients(data) -> list[tuple]
 * Failures raise Error(kind, message) with kind "corrupt", "unsupported" or "argument".
 * The heavy work runs without the GIL.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE and size_t */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

static PyObject *JpegCropError; /* _jpegcrop.Error(kind, message) */

enum { KIND_OK = 0, KIND_CORRUPT = 1, KIND_UNSUPPORTED = 2, KIND_ARGUMENT = 3 };

static const char *kind_name(int kind) {
    switch (kind) {
    case KIND_UNSUPPORTED: return "unsupported";
    case KIND_ARGUMENT: return "argument";
    default: return "corrupt";
    }
}

/* ---- error manager ------------------------------------------------------------------------ */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int kind;
    char message[JMSG_LENGTH_MAX + 64];
} ErrorManager;

static int unsupported_code(int code) {
    /* Valid files this transcoder cannot handle (as opposed to damaged ones). */
    switch (code) {
    case JERR_BAD_PRECISION:      /* 12/16-bit samples: this libjpeg is built for 8 bits */
    case JERR_SOF_UNSUPPORTED:    /* lossless (SOF3), hierarchical ... */
    case JERR_ARITH_NOTIMPL:
    case JERR_NOT_COMPILED:
    case JERR_EMPTY_IMAGE:        /* height given by a DNL marker */
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
        return 1;
    default:
        return 0;
    }
}

/* Cap on libjpeg's memory per object. Coefficient arrays of a (claimed) 120 MP 4:4:4 image take
 * 720 MB; a header claiming 60000x60000 would need 21 GB, which the kernel may overcommit and
 * then kill the process for once the pages are touched. Over the cap, libjpeg asks for a
 * backing store, which this build does not have: a clean error instead. */
#define MEMORY_CAP_BYTES (4L << 30)

static void on_error_exit(j_common_ptr cinfo) {
    ErrorManager *err = (ErrorManager *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    if (err->pub.msg_code == JERR_NO_BACKING_STORE) {
        snprintf(err->message, sizeof(err->message),
                 "libjpeg: the image's coefficient arrays exceed the %ld MiB memory cap",
                 MEMORY_CAP_BYTES >> 20);
        err->kind = KIND_UNSUPPORTED;
        longjmp(err->jump, 1);
    }
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(err->message, sizeof(err->message), "libjpeg: %s", text);
    err->kind = unsupported_code(err->pub.msg_code) ? KIND_UNSUPPORTED : KIND_CORRUPT;
    longjmp(err->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0) {
        /* A warning means damaged data (premature end, bad Huffman code, extraneous bytes):
         * refuse instead of writing the grey blocks libjpeg substitutes. */
        ErrorManager *err = (ErrorManager *)cinfo->err;
        char text[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)(cinfo, text);
        snprintf(err->message, sizeof(err->message), "libjpeg warning (refused): %s", text);
        err->kind = KIND_CORRUPT;
        longjmp(err->jump, 1);
    }
    /* level >= 0: trace messages, ignored. */
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void init_error_manager(ErrorManager *err) {
    memset(err, 0, sizeof(*err));
    jpeg_std_error(&err->pub);
    err->pub.error_exit = on_error_exit;
    err->pub.emit_message = on_emit_message;
    err->pub.output_message = on_output_message;
}

static void fail(ErrorManager *err, int kind, const char *message) {
    err->kind = kind;
    snprintf(err->message, sizeof(err->message), "%s", message);
    longjmp(err->jump, 1);
}

/* Raise _jpegcrop.Error(kind, message); needs the GIL. */
static void raise_error(const ErrorManager *err) {
    PyObject *args = Py_BuildValue("(ss)", kind_name(err->kind), err->message);
    if (args != NULL) {
        PyErr_SetObject(JpegCropError, args); /* does not steal the reference */
        Py_DECREF(args);
    }
}

/* ---- helpers ------------------------------------------------------------------------------ */

static JDIMENSION ceil_div(unsigned long a, unsigned long b) { return (JDIMENSION)((a + b - 1) / b); }
static JDIMENSION round_up(JDIMENSION a, JDIMENSION b) { return ceil_div(a, b) * b; }

/* iMCU size in pixels: a single-component image is coded in single blocks (jpegtran's rule). */
static void imcu_size(j_decompress_ptr src, int *w, int *h) {
    if (src->num_components == 1) {
        *w = DCTSIZE;
        *h = DCTSIZE;
    } else {
        *w = DCTSIZE * src->max_h_samp_factor;
        *h = DCTSIZE * src->max_v_samp_factor;
    }
}

static const char *colour_space_name(J_COLOR_SPACE cs) {
    switch (cs) {
    case JCS_GRAYSCALE: return "gray";
    case JCS_RGB: return "rgb";
    case JCS_YCbCr: return "ycbcr";
    case JCS_CMYK: return "cmyk";
    case JCS_YCCK: return "ycck";
    default: return "unknown";
    }
}

static int marker_has_prefix(jpeg_saved_marker_ptr m, const char *prefix, unsigned int length) {
    return m->data_length >= length && memcmp(m->data, prefix, length) == 0;
}

/* ---- header ------------------------------------------------------------------------------- */

typedef struct {
    const unsigned char *data;
    size_t size;
    ErrorManager err;
    struct jpeg_decompress_struct src;
} HeaderJob;

static int run_header(HeaderJob *job) {
    init_error_manager(&job->err);
    job->src.err = &job->err.pub;
    jpeg_create_decompress(&job->src);
    if (setjmp(job->err.jump)) {
        jpeg_destroy_decompress(&job->src);
        return -1;
    }
    jpeg_mem_src(&job->src, job->data, (unsigned long)job->size);
    jpeg_read_header(&job->src, TRUE);
    return 0;
}

static PyObject *py_header(PyObject *self, PyObject *args) {
    Py_buffer view;
    HeaderJob *job;
    PyObject *sampling, *result = NULL;
    int imcu_w, imcu_h, i, rc;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    job = (HeaderJob *)PyMem_Calloc(1, sizeof(HeaderJob));
    if (job == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    job->data = (const unsigned char *)view.buf;
    job->size = (size_t)view.len;
    rc = run_header(job);
    PyBuffer_Release(&view);
    if (rc != 0) {
        raise_error(&job->err);
        PyMem_Free(job);
        return NULL;
    }
    sampling = PyTuple_New(job->src.num_components);
    if (sampling != NULL) {
        for (i = 0; i < job->src.num_components; i++) {
            jpeg_component_info *c = &job->src.comp_info[i];
            PyTuple_SET_ITEM(sampling, i, Py_BuildValue("(ii)", c->h_samp_factor, c->v_samp_factor));
        }
        imcu_size(&job->src, &imcu_w, &imcu_h);
        result = Py_BuildValue(
            "{s:k,s:k,s:i,s:s,s:i,s:O,s:O,s:O,s:O,s:O,s:(ii)}",
            "width", (unsigned long)job->src.image_width,
            "height", (unsigned long)job->src.image_height,
            "components", job->src.num_components,
            "colour_space", colour_space_name(job->src.jpeg_color_space),
            "precision", job->src.data_precision,
            "progressive", job->src.progressive_mode ? Py_True : Py_False,
            "arithmetic", job->src.arith_code ? Py_True : Py_False,
            "jfif", job->src.saw_JFIF_marker ? Py_True : Py_False,
            "adobe", job->src.saw_Adobe_marker ? Py_True : Py_False,
            "sampling", sampling,
            "imcu", imcu_w, imcu_h);
        Py_DECREF(sampling);
    }
    jpeg_destroy_decompress(&job->src);
    PyMem_Free(job);
    return result;
}

/* ---- crop --------------------------------------------------------------------------------- */

/* A growing output buffer owned by the caller. libjpeg's jpeg_mem_dest only publishes its
 * buffer in term_destination, so after an error mid-write the caller could neither free the
 * current buffer nor tell whether the published one was already freed. */
typedef struct {
    struct jpeg_destination_mgr pub;
    unsigned char *buffer;
    size_t capacity;
} GrowingDestination;

static void dest_init(j_compress_ptr cinfo) {
    GrowingDestination *dest = (GrowingDestination *)cinfo->dest;
    dest->pub.next_output_byte = dest->buffer;
    dest->pub.free_in_buffer = dest->capacity;
}

static boolean dest_grow(j_compress_ptr cinfo) {
    /* Called when the buffer is full (free_in_buffer == 0): double it. */
    GrowingDestination *dest = (GrowingDestination *)cinfo->dest;
    size_t used = dest->capacity;
    size_t capacity = dest->capacity * 2;
    unsigned char *grown = (unsigned char *)realloc(dest->buffer, capacity);
    if (grown == NULL)
        ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 10);
    dest->buffer = grown;
    dest->capacity = capacity;
    dest->pub.next_output_byte = grown + used;
    dest->pub.free_in_buffer = capacity - used;
    return TRUE;
}

static void dest_term(j_compress_ptr cinfo) { (void)cinfo; }

typedef struct {
    const unsigned char *data;
    size_t size;
    unsigned long x0, y0, width, height;
    int keep_icc, keep_exif, optimize;
    GrowingDestination out;
    ErrorManager err;
    struct jpeg_decompress_struct src;
    struct jpeg_compress_struct dst;
} CropJob;

static void check_window(CropJob *job) {
    j_decompress_ptr src = &job->src;
    int imcu_w, imcu_h, ci;
    char message[256];
    if (src->jpeg_color_space != JCS_GRAYSCALE && src->jpeg_color_space != JCS_YCbCr &&
        src->jpeg_color_space != JCS_RGB) {
        snprintf(message, sizeof(message), "colour space %s is not supported (gray, YCbCr or RGB only)",
                 colour_space_name(src->jpeg_color_space));
        fail(&job->err, KIND_UNSUPPORTED, message);
    }
    /* Written so that no sum can wrap around, whatever the caller passes. */
    if (job->width < 1 || job->height < 1 || job->x0 >= src->image_width || job->y0 >= src->image_height ||
        job->width > src->image_width - job->x0 || job->height > src->image_height - job->y0) {
        snprintf(message, sizeof(message), "window x0=%lu y0=%lu %lux%lu is not inside the %ux%u image",
                 job->x0, job->y0, job->width, job->height, src->image_width, src->image_height);
        fail(&job->err, KIND_ARGUMENT, message);
    }
    imcu_size(src, &imcu_w, &imcu_h);
    if (job->x0 % (unsigned long)imcu_w != 0 || job->y0 % (unsigned long)imcu_h != 0) {
        snprintf(message, sizeof(message), "offset (%lu, %lu) is not a multiple of the %dx%d iMCU",
                 job->x0, job->y0, imcu_w, imcu_h);
        fail(&job->err, KIND_ARGUMENT, message);
    }
    /* Implied by the iMCU check; kept so no component can ever be copied at a fractional
     * block offset even if the rule above is changed. */
    for (ci = 0; ci < src->num_components; ci++) {
        jpeg_component_info *c = &src->comp_info[ci];
        if ((job->x0 * c->h_samp_factor) % (DCTSIZE * src->max_h_samp_factor) != 0 ||
            (job->y0 * c->v_samp_factor) % (DCTSIZE * src->max_v_samp_factor) != 0)
            fail(&job->err, KIND_ARGUMENT, "offset does not fall on a block boundary of every component");
    }
}

static int run_crop(CropJob *job) {
    j_decompress_ptr src = &job->src;
    j_compress_ptr dst = &job->dst;
    jvirt_barray_ptr *src_arrays, *dst_arrays;
    jpeg_saved_marker_ptr marker;
    int ci;

    init_error_manager(&job->err);
    src->err = &job->err.pub;
    dst->err = &job->err.pub;
    jpeg_create_decompress(src);
    src->mem->max_memory_to_use = MEMORY_CAP_BYTES;
    jpeg_create_compress(dst);
    dst->mem->max_memory_to_use = MEMORY_CAP_BYTES;
    if (setjmp(job->err.jump)) {
        jpeg_destroy_compress(dst);
        jpeg_destroy_decompress(src);
        return -1; /* the caller frees job->out.buffer */
    }
    jpeg_mem_src(src, job->data, (unsigned long)job->size);
    if (job->keep_exif)
        jpeg_save_markers(src, JPEG_APP0 + 1, 0xFFFF);
    if (job->keep_icc)
        jpeg_save_markers(src, JPEG_APP0 + 2, 0xFFFF);
    jpeg_read_header(src, TRUE);
    check_window(job);

    /* Destination arrays live in the source's image pool: they must be requested before
     * jpeg_read_coefficients realises the pool, and be sized to whole iMCU rows/columns. */
    dst_arrays = (jvirt_barray_ptr *)(*src->mem->alloc_small)(
        (j_common_ptr)src, JPOOL_IMAGE, sizeof(jvirt_barray_ptr) * (size_t)src->num_components);
    for (ci = 0; ci < src->num_components; ci++) {
        jpeg_component_info *c = &src->comp_info[ci];
        JDIMENSION cols = ceil_div(job->width * c->h_samp_factor, DCTSIZE * src->max_h_samp_factor);
        JDIMENSION rows = ceil_div(job->height * c->v_samp_factor, DCTSIZE * src->max_v_samp_factor);
        dst_arrays[ci] = (*src->mem->request_virt_barray)(
            (j_common_ptr)src, JPOOL_IMAGE, TRUE, round_up(cols, c->h_samp_factor),
            round_up(rows, c->v_samp_factor), (JDIMENSION)c->v_samp_factor);
    }
    src_arrays = jpeg_read_coefficients(src);

    for (ci = 0; ci < src->num_components; ci++) {
        jpeg_component_info *c = &src->comp_info[ci];
        /* Only the blocks that hold crop pixels are copied; the encoder makes the dummy edge
         * blocks of partial iMCUs itself, and the pre-zeroed padding is never read. */
        JDIMENSION cols = ceil_div(job->width * c->h_samp_factor, DCTSIZE * src->max_h_samp_factor);
        JDIMENSION rows = ceil_div(job->height * c->v_samp_factor, DCTSIZE * src->max_v_samp_factor);
        JDIMENSION x_blocks = (JDIMENSION)(job->x0 * c->h_samp_factor / (DCTSIZE * src->max_h_samp_factor));
        JDIMENSION y_blocks = (JDIMENSION)(job->y0 * c->v_samp_factor / (DCTSIZE * src->max_v_samp_factor));
        JDIMENSION row;
        for (row = 0; row < rows; row++) {
            JBLOCKARRAY out_row = (*src->mem->access_virt_barray)((j_common_ptr)src, dst_arrays[ci], row, 1, TRUE);
            JBLOCKARRAY in_row =
                (*src->mem->access_virt_barray)((j_common_ptr)src, src_arrays[ci], row + y_blocks, 1, FALSE);
            memcpy(out_row[0], in_row[0] + x_blocks, sizeof(JBLOCK) * (size_t)cols);
        }
    }

    /* The crop is at most about as large as the source: start there (one realloc at most). */
    job->out.capacity = job->size + 65536;
    job->out.buffer = (unsigned char *)malloc(job->out.capacity);
    if (job->out.buffer == NULL)
        ERREXIT1(dst, JERR_OUT_OF_MEMORY, 11);
    job->out.pub.init_destination = dest_init;
    job->out.pub.empty_output_buffer = dest_grow;
    job->out.pub.term_destination = dest_term;
    dst->dest = &job->out.pub;
    jpeg_copy_critical_parameters(src, dst);
    dst->image_width = (JDIMENSION)job->width;
    dst->image_height = (JDIMENSION)job->height;
    dst->optimize_coding = job->optimize ? TRUE : FALSE;
    /* Mirror the source's JFIF APP0: camera files without one keep EXIF right after SOI,
     * where EXIF readers look for it. */
    if (dst->jpeg_color_space == JCS_YCbCr || dst->jpeg_color_space == JCS_GRAYSCALE)
        dst->write_JFIF_header = src->saw_JFIF_marker;
    jpeg_write_coefficients(dst, dst_arrays);
    for (marker = src->marker_list; marker != NULL; marker = marker->next) {
        int keep = (marker->marker == JPEG_APP0 + 1 && marker_has_prefix(marker, "Exif\0\0", 6)) ||
                   (marker->marker == JPEG_APP0 + 2 && marker_has_prefix(marker, "ICC_PROFILE\0", 12));
        if (keep)
            jpeg_write_marker(dst, marker->marker, marker->data, marker->data_length);
    }
    jpeg_finish_compress(dst);
    /* After the compressor: it still reads the arrays, which belong to the source's pool. */
    jpeg_finish_decompress(src);
    jpeg_destroy_compress(dst);
    jpeg_destroy_decompress(src);
    return 0;
}

static PyObject *py_crop(PyObject *self, PyObject *args) {
    Py_buffer view;
    CropJob *job;
    PyObject *result;
    PyThreadState *thread;
    unsigned long x0, y0, width, height;
    int keep_icc, keep_exif, optimize, rc;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*kkkkppp", &view, &x0, &y0, &width, &height, &keep_icc, &keep_exif,
                          &optimize))
        return NULL;
    job = (CropJob *)PyMem_RawCalloc(1, sizeof(CropJob));
    if (job == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    job->data = (const unsigned char *)view.buf;
    job->size = (size_t)view.len;
    job->x0 = x0;
    job->y0 = y0;
    job->width = width;
    job->height = height;
    job->keep_icc = keep_icc;
    job->keep_exif = keep_exif;
    job->optimize = optimize;
    thread = PyEval_SaveThread();
    rc = run_crop(job);
    PyEval_RestoreThread(thread);
    PyBuffer_Release(&view);
    if (rc != 0) {
        raise_error(&job->err);
        result = NULL;
    } else {
        size_t written = job->out.capacity - job->out.pub.free_in_buffer;
        result = PyBytes_FromStringAndSize((const char *)job->out.buffer, (Py_ssize_t)written);
    }
    free(job->out.buffer);
    PyMem_RawFree(job);
    return result;
}

/* ---- coefficients (verification helper) --------------------------------------------------- */

typedef struct {
    const unsigned char *data;
    size_t size;
    ErrorManager err;
    struct jpeg_decompress_struct src;
    int num_components;
    /* Copied out before jpeg_finish_decompress frees comp_info with the image pool. */
    int component_id[MAX_COMPONENTS], h_samp[MAX_COMPONENTS], v_samp[MAX_COMPONENTS];
    JDIMENSION rows[MAX_COMPONENTS], cols[MAX_COMPONENTS];
    JCOEF *blocks[MAX_COMPONENTS];
    UINT16 quant[MAX_COMPONENTS][DCTSIZE2];
} CoefficientJob;

static int run_coefficients(CoefficientJob *job) {
    j_decompress_ptr src = &job->src;
    jvirt_barray_ptr *arrays;
    int ci, k;
    init_error_manager(&job->err);
    src->err = &job->err.pub;
    jpeg_create_decompress(src);
    src->mem->max_memory_to_use = MEMORY_CAP_BYTES;
    if (setjmp(job->err.jump)) {
        jpeg_destroy_decompress(src);
        for (ci = 0; ci < MAX_COMPONENTS; ci++) {
            free(job->blocks[ci]);
            job->blocks[ci] = NULL;
        }
        return -1;
    }
    jpeg_mem_src(src, job->data, (unsigned long)job->size);
    jpeg_read_header(src, TRUE);
    arrays = jpeg_read_coefficients(src);
    for (ci = 0; ci < src->num_components; ci++) {
        jpeg_component_info *c = &src->comp_info[ci];
        JDIMENSION row, cols = c->width_in_blocks;
        size_t row_values = (size_t)cols * DCTSIZE2;
        if (c->quant_table == NULL)
            fail(&job->err, KIND_CORRUPT, "component without a quantisation table");
        job->component_id[ci] = c->component_id;
        job->h_samp[ci] = c->h_samp_factor;
        job->v_samp[ci] = c->v_samp_factor;
        job->rows[ci] = c->height_in_blocks;
        job->cols[ci] = cols;
        for (k = 0; k < DCTSIZE2; k++)
            job->quant[ci][k] = c->quant_table->quantval[k];
        job->blocks[ci] = (JCOEF *)malloc(sizeof(JCOEF) * row_values * c->height_in_blocks + 1);
        if (job->blocks[ci] == NULL)
            fail(&job->err, KIND_CORRUPT, "out of memory for the coefficient copy");
        for (row = 0; row < c->height_in_blocks; row++) {
            JBLOCKARRAY in_row = (*src->mem->access_virt_barray)((j_common_ptr)src, arrays[ci], row, 1, FALSE);
            memcpy(job->blocks[ci] + row * row_values, in_row[0], sizeof(JCOEF) * row_values);
        }
    }
    job->num_components = src->num_components;
    jpeg_finish_decompress(src);
    jpeg_destroy_decompress(src);
    return 0;
}

static PyObject *py_coefficients(PyObject *self, PyObject *args) {
    Py_buffer view;
    CoefficientJob *job;
    PyObject *result = NULL;
    PyThreadState *thread;
    int ci, rc;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    job = (CoefficientJob *)PyMem_RawCalloc(1, sizeof(CoefficientJob));
    if (job == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    job->data = (const unsigned char *)view.buf;
    job->size = (size_t)view.len;
    thread = PyEval_SaveThread();
    rc = run_coefficients(job);
    PyEval_RestoreThread(thread);
    PyBuffer_Release(&view);
    if (rc != 0) {
        raise_error(&job->err);
    } else {
        result = PyList_New(job->num_components);
        for (ci = 0; result != NULL && ci < job->num_components; ci++) {
            PyObject *item = Py_BuildValue(
                "(iiikky#y#)", job->component_id[ci], job->h_samp[ci], job->v_samp[ci],
                (unsigned long)job->rows[ci], (unsigned long)job->cols[ci],
                (const char *)job->quant[ci], (Py_ssize_t)sizeof(job->quant[ci]),
                (const char *)job->blocks[ci],
                (Py_ssize_t)(sizeof(JCOEF) * DCTSIZE2 * (size_t)job->cols[ci] * job->rows[ci]));
            if (item == NULL) {
                Py_CLEAR(result);
                break;
            }
            PyList_SET_ITEM(result, ci, item);
        }
    }
    for (ci = 0; ci < MAX_COMPONENTS; ci++)
        free(job->blocks[ci]);
    PyMem_RawFree(job);
    return result;
}

/* ---- module ------------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"header", py_header, METH_VARARGS,
     "header(data) -> dict: size, components, colour space, precision, progressive, sampling, iMCU."},
    {"crop", py_crop, METH_VARARGS,
     "crop(data, x0, y0, width, height, keep_icc, keep_exif, optimize) -> bytes: lossless crop."},
    {"coefficients", py_coefficients, METH_VARARGS,
     "coefficients(data) -> [(component_id, h_samp, v_samp, rows, cols, quant_u16, blocks_i16)]."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_jpegcrop",
    .m_doc = "Lossless JPEG crop on libjpeg's coefficient API (see portraitsr4k.image_io.jpeg_crop).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__jpegcrop(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    JpegCropError = PyErr_NewException("portraitsr4k.image_io._jpegcrop.Error", PyExc_Exception, NULL);
    if (JpegCropError == NULL || PyModule_AddObject(m, "Error", JpegCropError) < 0) {
        Py_XDECREF(JpegCropError);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(JpegCropError);
    if (PyModule_AddIntConstant(m, "LIBJPEG_VERSION", JPEG_LIB_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
    if (PyModule_AddIntConstant(m, "LIBJPEG_TURBO_VERSION", LIBJPEG_TURBO_VERSION_NUMBER) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
