/*
 * xml.c - safe parsing of untrusted XML and XSD validation with libxml2.
 *
 * libxml2 is careful by default, but not careful enough for a gateway that
 * faces other agencies: we refuse any document type declaration outright
 * (which refuses external entities, parameter entities and entity bombs
 * before a single declaration is processed), never touch the network, stop
 * at a depth limit, and refuse oversized input before parsing. Schemas
 * come from our own schemas/ folder and may include or import local files;
 * that is the only time the entity loader reads a file.
 */
#include "base/xml.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define GW_STR2(x) #x
#define GW_STR(x) GW_STR2(x)

struct parse_state {
	const char *name;
	const char *refused; /* set when we stopped the parser on purpose */
	int line;
	struct gw_err first; /* first libxml2 error */
	startElementNsSAX2Func sax_start;
};

static __thread int trusted_loading;
static xmlExternalEntityLoader default_loader;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/*
 * The entity loader: refuses everything unless we are loading one of our
 * own schemas, and even then only local files.
 */
static xmlParserInputPtr deny_loader(const char *url, const char *id,
				     xmlParserCtxtPtr ctxt)
{
	if (trusted_loading && url && !strstr(url, "://"))
		return default_loader(url, id, ctxt);
	if (trusted_loading && url && strncmp(url, "file://", 7) == 0)
		return default_loader(url, id, ctxt);
	return NULL;
}

/* libxml2 prints to stderr by default; every error we care about is
 * collected through structured handlers instead. */
static void quiet(void *ctx, const char *msg, ...)
{
}

static void do_init(void)
{
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	default_loader = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(deny_loader);
}

void gw_xml_init(void)
{
	pthread_once(&init_once, do_init);
}

static void stop(xmlParserCtxtPtr ctxt, const char *why)
{
	struct parse_state *st = ctxt->_private;

	if (!st->refused) {
		st->refused = why;
		st->line = xmlSAX2GetLineNumber(ctxt);
	}
	xmlStopParser(ctxt);
}

static void on_internal_subset(void *ctx, const xmlChar *name,
			       const xmlChar *ext, const xmlChar *sys)
{
	stop(ctx, "document type declarations are not accepted "
		  "(external entities and entity expansion are refused)");
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type,
			   const xmlChar *pub, const xmlChar *sys,
			   xmlChar *content)
{
	stop(ctx, "entity declarations are not accepted");
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		     const xmlChar *uri, int nb_ns, const xmlChar **ns,
		     int nb_attr, int nb_def, const xmlChar **attrs)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;

	if (ctxt->nameNr > GW_XML_MAX_DEPTH) {
		stop(ctxt, "elements nested deeper than the limit of " GW_STR(
				   GW_XML_MAX_DEPTH));
		return;
	}
	st->sax_start(ctx, localname, prefix, uri, nb_ns, ns, nb_attr, nb_def,
		      attrs);
}

/* libxml2 messages may span lines; we report one line per problem. */
static void chomp(char *s)
{
	size_t n;
	char *p;

	for (p = s; *p; p++)
		if (*p == '\n' && p[1])
			*p = ';';
	n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static void on_error(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;

	if (!st || st->first.rc || e->level < XML_ERR_ERROR)
		return;
	gw_err_set(&st->first, GW_ERR_PARSE, "%s:%d: %s", st->name, e->line,
		   e->message ? e->message : "malformed XML");
	chomp(st->first.msg);
}

gw_rc gw_xml_parse(const char *buf, size_t len, const char *name,
		   xmlDocPtr *out, struct gw_err *err)
{
	xmlParserCtxtPtr ctxt;
	struct parse_state st;
	gw_rc rc = GW_OK;

	*out = NULL;
	gw_xml_init();
	if (len > GW_XML_MAX_SIZE)
		return gw_err_set(err, GW_ERR_REFUSED,
				  "%s: %zu bytes is over the XML size limit "
				  "of %u bytes",
				  name, len, GW_XML_MAX_SIZE);
	if (len == 0)
		return gw_err_set(err, GW_ERR_PARSE, "%s:1: empty document",
				  name);
	if (len > INT32_MAX)
		return gw_err_set(err, GW_ERR_REFUSED, "%s: too large", name);
	memset(&st, 0, sizeof(st));
	st.name = name;
	ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
	if (!ctxt)
		return gw_err_set(err, GW_ERR_NOMEM,
				  "%s: cannot create an XML parser", name);
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA);
	ctxt->_private = &st;
	st.sax_start = ctxt->sax->startElementNs;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->internalSubset = on_internal_subset;
	ctxt->sax->externalSubset = on_internal_subset;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->serror = on_error;
	ctxt->sax->initialized = XML_SAX2_MAGIC;
	ctxt->vctxt.error = NULL;
	ctxt->vctxt.warning = NULL;

	xmlParseDocument(ctxt);

	if (st.refused) {
		rc = gw_err_set(err, GW_ERR_REFUSED, "%s:%d: refused: %s", name,
				st.line, st.refused);
	} else if (!ctxt->wellFormed || !ctxt->myDoc) {
		if (st.first.rc)
			rc = gw_err_set(err, GW_ERR_PARSE, "%s", st.first.msg);
		else
			rc = gw_err_set(err, GW_ERR_PARSE,
					"%s:%d: malformed XML", name,
					xmlSAX2GetLineNumber(ctxt));
	} else if (!xmlDocGetRootElement(ctxt->myDoc)) {
		rc = gw_err_set(err, GW_ERR_PARSE, "%s:1: empty document",
				name);
	}
	if (rc) {
		if (ctxt->myDoc)
			xmlFreeDoc(ctxt->myDoc);
	} else {
		*out = ctxt->myDoc;
	}
	ctxt->myDoc = NULL;
	ctxt->_private = NULL;
	xmlFreeParserCtxt(ctxt);
	return rc;
}

struct gw_xsd {
	xmlSchemaPtr schema;
};

struct xsd_errs {
	const char *name;
	FILE *out;
	struct gw_err *err;
	int count;
	int first_done;
};

static void on_xsd_error(void *ctx, xmlErrorPtr e)
{
	struct xsd_errs *x = ctx;
	char msg[GW_ERR_MSG_MAX];

	if (e->level < XML_ERR_ERROR)
		return;
	snprintf(msg, sizeof(msg), "%s:%d: %s", x->name, e->line,
		 e->message ? e->message : "invalid");
	chomp(msg);
	x->count++;
	if (x->out)
		fprintf(x->out, "%s\n", msg);
	if (!x->first_done) {
		x->first_done = 1;
		gw_err_set(x->err, GW_ERR_SCHEMA, "%s", msg);
	}
}

gw_rc gw_xsd_load(const char *path, struct gw_xsd **out, struct gw_err *err)
{
	xmlSchemaParserCtxtPtr pctxt;
	struct gw_xsd *x;
	struct gw_err first;
	struct xsd_errs xe = { path, NULL, &first, 0, 0 };

	*out = NULL;
	gw_xml_init();
	gw_err_clear(&first);
	pctxt = xmlSchemaNewParserCtxt(path);
	if (!pctxt)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	xmlSchemaSetParserStructuredErrors(pctxt, on_xsd_error, &xe);
	x = gw_calloc(1, sizeof(*x));
	if (!x) {
		xmlSchemaFreeParserCtxt(pctxt);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	trusted_loading = 1;
	x->schema = xmlSchemaParse(pctxt);
	trusted_loading = 0;
	xmlSchemaFreeParserCtxt(pctxt);
	if (!x->schema) {
		free(x);
		return gw_err_set(err, GW_ERR_SCHEMA_DEF,
				  "cannot load XML schema '%s': %s", path,
				  xe.count ? first.msg : "unreadable");
	}
	*out = x;
	return GW_OK;
}

void gw_xsd_free(struct gw_xsd *x)
{
	if (!x)
		return;
	xmlSchemaFree(x->schema);
	free(x);
}

gw_rc gw_xsd_validate(const struct gw_xsd *x, xmlDocPtr doc, const char *name,
		      FILE *errout, struct gw_err *err)
{
	xmlSchemaValidCtxtPtr v;
	struct xsd_errs xe = { name, errout, err, 0, 0 };
	int r;

	v = xmlSchemaNewValidCtxt(x->schema);
	if (!v)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	xmlSchemaSetValidStructuredErrors(v, on_xsd_error, &xe);
	r = xmlSchemaValidateDoc(v, doc);
	xmlSchemaFreeValidCtxt(v);
	if (r == 0)
		return GW_OK;
	if (r < 0)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "%s: the XML schema validator failed", name);
	if (!xe.count)
		gw_err_set(err, GW_ERR_SCHEMA, "%s: not valid", name);
	return GW_ERR_SCHEMA;
}
