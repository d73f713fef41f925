/* op-backend.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "op-request.h"

G_BEGIN_DECLS

#define OP_BACKEND_ERROR (op_backend_error_quark ())

typedef enum
{
  OP_BACKEND_ERROR_FAILED,        /* the backend could not produce a result */
  OP_BACKEND_ERROR_NOT_SUPPORTED, /* e.g. describe on a backend without it */
  OP_BACKEND_ERROR_BAD_ANSWER,    /* the answer is not what was asked (size, format) */
} OpBackendError;

typedef enum /*< flags >*/
{
  OP_BACKEND_CAP_INPAINT        = 1 << 0,
  OP_BACKEND_CAP_NATIVE_OUTPAINT = 1 << 1,  /* extends the canvas itself */
  OP_BACKEND_CAP_DESCRIBE       = 1 << 2,
  OP_BACKEND_CAP_MODELS         = 1 << 3,
  OP_BACKEND_CAP_SAMPLERS       = 1 << 4,
  OP_BACKEND_CAP_PROGRESS       = 1 << 5,
  OP_BACKEND_CAP_PREVIEW        = 1 << 6,
} OpBackendCaps;

/* The parameters of OpParams a backend may use. */
typedef enum /*< flags >*/
{
  OP_PARAM_PROMPT          = 1 << 0,
  OP_PARAM_NEGATIVE_PROMPT = 1 << 1,
  OP_PARAM_SEED            = 1 << 2,
  OP_PARAM_VARIANTS        = 1 << 3,
  OP_PARAM_STEPS           = 1 << 4,
  OP_PARAM_CFG             = 1 << 5,
  OP_PARAM_STRENGTH        = 1 << 6,
  OP_PARAM_SAMPLER         = 1 << 7,
  OP_PARAM_MODEL           = 1 << 8,
} OpParamFlags;

/* One answer of a generation: a picture of the input's size and the seed it used. */
typedef struct
{
  OpImage *image;
  gint64   seed;
} OpResult;

OpResult *op_result_new  (OpImage  *image,
                          gint64    seed);
void      op_result_free (OpResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpResult, op_result_free)

/* Progress from the backend's thread: fraction 0…1 (or < 0: unknown), a short text, and
 * optionally a preview picture.  May be called from any thread. */
typedef void (*OpProgressFunc) (double      fraction,
                                const char *text,
                                OpImage    *preview,
                                gpointer    user_data);

/* What a generation gets: the prepared input, the parameters, the seed of the first
 * variant (variant k uses seed + k), and where to report progress.  A backend copies
 * the struct; what it points to stays alive until the generation's callback runs. */
typedef struct
{
  OpPrepared     *prepared;
  const OpParams *params;
  gint64          seed;
  OpProgressFunc  progress;
  gpointer        progress_data;
} OpGenerateInput;

/* How long a prompt may be, as the backend counts it. */
typedef enum
{
  OP_PROMPT_UNIT_NONE,    /* the backend reads no prompt, or sets no limit */
  OP_PROMPT_UNIT_CHARS,   /* a hard limit in characters: longer is refused */
  OP_PROMPT_UNIT_TOKENS,  /* CLIP tokens per chunk: longer starts another chunk */
} OpPromptUnit;

typedef struct
{
  OpPromptUnit unit;
  guint        max;
  gboolean     weights;   /* reads the (phrase:1.2) attention syntax */
} OpPromptLimit;

#define OP_TYPE_BACKEND (op_backend_get_type ())

G_DECLARE_INTERFACE (OpBackend, op_backend, OP, BACKEND, GObject)

struct _OpBackendInterface
{
  GTypeInterface parent_iface;

  const char   *(*get_id)             (OpBackend          *self);
  const char   *(*get_name)           (OpBackend          *self);
  OpBackendCaps (*get_capabilities)   (OpBackend          *self);
  OpParamFlags  (*get_parameters)     (OpBackend          *self);
  const char   *(*explain_parameter)  (OpBackend          *self,
                                       OpParamFlags        param);
  void          (*get_size_rule)      (OpBackend          *self,
                                       OpSizeRule         *rule);
  void          (*get_prompt_limit)   (OpBackend          *self,
                                       const char         *model,
                                       OpPromptLimit      *limit);

  void          (*generate_async)     (OpBackend          *self,
                                       const OpGenerateInput *input,
                                       GCancellable       *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer            user_data);
  GPtrArray    *(*generate_finish)    (OpBackend          *self,
                                       GAsyncResult       *result,
                                       GError            **error);

  void          (*describe_async)     (OpBackend          *self,
                                       OpImage            *image,
                                       GCancellable       *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer            user_data);
  char         *(*describe_finish)    (OpBackend          *self,
                                       GAsyncResult       *result,
                                       GError            **error);

  void          (*list_models_async)  (OpBackend          *self,
                                       GCancellable       *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer            user_data);
  GStrv         (*list_models_finish) (OpBackend          *self,
                                       GAsyncResult       *result,
                                       GError            **error);
};

GQuark         op_backend_error_quark        (void);

const char    *op_backend_get_id             (OpBackend          *self);
const char    *op_backend_get_name           (OpBackend          *self);
OpBackendCaps  op_backend_get_capabilities   (OpBackend          *self);
OpParamFlags   op_backend_get_parameters     (OpBackend          *self);
/* Why a parameter the backend does not use is not used, for a tooltip; NULL if used. */
const char    *op_backend_explain_parameter  (OpBackend          *self,
                                              OpParamFlags        param);
void           op_backend_get_size_rule      (OpBackend          *self,
                                              OpSizeRule         *rule);
/* The prompt's limit with @model (NULL: the backend's default). */
void           op_backend_get_prompt_limit   (OpBackend          *self,
                                              const char         *model,
                                              OpPromptLimit      *limit);

/* Generates input->params->n_variants answers; the GPtrArray holds OpResult.  Without a
 * vfunc describe and list_models fail with OP_BACKEND_ERROR_NOT_SUPPORTED; generate
 * never succeeds with no results or a result without a picture (BAD_ANSWER). */
void           op_backend_generate_async     (OpBackend          *self,
                                              const OpGenerateInput *input,
                                              GCancellable       *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer            user_data);
GPtrArray     *op_backend_generate_finish    (OpBackend          *self,
                                              GAsyncResult       *result,
                                              GError            **error);
void           op_backend_describe_async     (OpBackend          *self,
                                              OpImage            *image,
                                              GCancellable       *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer            user_data);
char          *op_backend_describe_finish    (OpBackend          *self,
                                              GAsyncResult       *result,
                                              GError            **error);
void           op_backend_list_models_async  (OpBackend          *self,
                                              GCancellable       *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer            user_data);
GStrv          op_backend_list_models_finish (OpBackend          *self,
                                              GAsyncResult       *result,
                                              GError            **error);

/* Hands a backend its address, key or Basic auth ("url", "api-key", "api-auth"
 * properties); FALSE with @error for a value the backend has no use for. */
gboolean       op_backend_configure          (OpBackend          *self,
                                              const char         *url,
                                              const char         *api_key,
                                              const char         *api_auth,
                                              GError            **error);

gboolean       op_backend_configure_service  (OpBackend          *self,
                                              const char         *url,
                                              const char         *secret,
                                              GError            **error);
void           op_backend_apply_params       (OpBackend          *self,
                                              const OpParams     *params);

/* The backends this build has, by id; NULL and G_IO_ERROR_NOT_FOUND, naming the ids
 * there are, for an unknown id. */
OpBackend     *op_backend_new_for_id         (const char         *id,
                                              GError            **error);
const char * const *op_backend_list_ids      (void);

G_END_DECLS
