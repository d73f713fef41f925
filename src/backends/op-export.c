/* op-export.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-export"

#include "config.h"

#include "op-backend.h"
#include "op-export.h"

/**
 * op_export_dup_parameters:
 *
 * The generation parameters in the layout the Stable Diffusion web UI writes into its
 * PNGs ("parameters" text chunk), so its PNG Info tab reads ours: the prompt, a
 * "Negative prompt:" line, then "Key: value" pairs.  Only the parameters the backend
 * used are listed.  No key or address is ever part of it.
 *
 * Returns: (nullable): NULL when nothing in the picture was generated
 */
char *
op_export_dup_parameters (OpVersion *version)
{
  const OpParams *p;
  g_autoptr(OpBackend) backend = NULL;
  g_autoptr(GString) text = NULL;
  OpParamFlags used = ~0;

  g_return_val_if_fail (OP_IS_VERSION (version), NULL);

  p = op_version_get_params (version);
  if (p == NULL)
    return NULL;

  backend = op_backend_new_for_id (p->backend, NULL);
  if (backend != NULL)
    used = op_backend_get_parameters (backend);

  text = g_string_new (NULL);
  if (used & OP_PARAM_PROMPT)
    g_string_append (text, p->prompt != NULL ? p->prompt : "");
  g_string_append_c (text, '\n');
  if ((used & OP_PARAM_NEGATIVE_PROMPT) && p->negative_prompt != NULL &&
      p->negative_prompt[0] != '\0')
    g_string_append_printf (text, "Negative prompt: %s\n", p->negative_prompt);

  if (used & OP_PARAM_STEPS)
    g_string_append_printf (text, "Steps: %d, ", p->steps);
  if ((used & OP_PARAM_SAMPLER) && p->sampler != NULL && p->sampler[0] != '\0')
    g_string_append_printf (text, "Sampler: %s, ", p->sampler);
  if ((used & OP_PARAM_SAMPLER) && p->scheduler != NULL && p->scheduler[0] != '\0')
    g_string_append_printf (text, "Schedule type: %s, ", p->scheduler);
  if (used & OP_PARAM_CFG)
    g_string_append_printf (text, "CFG scale: %g, ", p->cfg);
  g_string_append_printf (text, "Seed: %" G_GINT64_FORMAT ", ", op_version_get_seed (version));
  g_string_append_printf (text, "Size: %dx%d, ", op_version_get_width (version),
                          op_version_get_height (version));
  if ((used & OP_PARAM_MODEL) && p->model != NULL && p->model[0] != '\0')
    g_string_append_printf (text, "Model: %s, ", p->model);
  if (used & OP_PARAM_STRENGTH)
    g_string_append_printf (text, "Denoising strength: %g, ", p->strength);
  g_string_append_printf (text, "Mask blur: %d, ", p->mask_feather);
  g_string_append_printf (text, "Backend: %s, ", p->backend);
  g_string_append_printf (text, "Version: Overpaint %s", PACKAGE_VERSION);

  return g_string_free (g_steal_pointer (&text), FALSE);
}

/**
 * op_export_dup_xmp:
 *
 * An XMP packet naming the IPTC digital source type for pictures edited with
 * generative AI, and Overpaint as the creator tool.
 */
char *
op_export_dup_xmp (void)
{
  return g_strdup_printf (
    "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
    " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
    "  <rdf:Description rdf:about=\"\"\n"
    "    xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\"\n"
    "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n"
    "   <Iptc4xmpExt:DigitalSourceType>%s</Iptc4xmpExt:DigitalSourceType>\n"
    "   <xmp:CreatorTool>Overpaint %s</xmp:CreatorTool>\n"
    "  </rdf:Description>\n"
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
    "<?xpacket end=\"w\"?>",
    OP_EXPORT_DIGITAL_SOURCE_TYPE, PACKAGE_VERSION);
}

/**
 * op_export_dup_texts:
 *
 * Returns: the PNG text chunks for @version, key and text in turn: "parameters" and the
 *   XMP packet ("XML:com.adobe.xmp", written as iTXt) when something was generated;
 *   "Software" always.
 */
GStrv
op_export_dup_texts (OpVersion *version)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *parameters = op_export_dup_parameters (version);
  g_autofree char *software = g_strdup_printf ("Overpaint %s", PACKAGE_VERSION);

  g_strv_builder_add_many (builder, "Software", software, NULL);
  if (parameters != NULL)
    {
      g_autofree char *xmp = op_export_dup_xmp ();

      g_strv_builder_add_many (builder, "parameters", parameters, "XML:com.adobe.xmp", xmp, NULL);
    }

  return g_strv_builder_end (builder);
}
