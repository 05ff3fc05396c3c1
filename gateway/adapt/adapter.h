/*
 * adapter.h - the adapter ABI: how source adapters (internal records ->
 * canonical messages) plug into the gateway, built in or loaded with
 * dlopen from the configured adapter folder. Format adapters (canonical
 * messages <-> a wire format such as edXML or SDMX) use the same struct
 * with the format members appended at its end (docs/FORMATS.md).
 *
 * An adapter exports exactly one symbol, GW_ADAPTER_ENTRY, a function
 * returning a const struct gw_adapter whose first two members are the ABI
 * version and the struct's size; members are only ever appended, so a
 * newer gateway reads an older adapter up to its size. The adapter reaches
 * the core only through the struct gw_adapter_host table passed to init
 * (logging, allocation, emitting messages, normalization helpers) and
 * includes nothing but this header and jansson (payloads are json_t).
 * Built-in adapters (adapters/NAME/) register the same struct statically.
 * (SQLite sqlite3_api_routines, Redis modules, nginx modules)
 *
 * The registry half of this header (gw_adapter_registry_*) is for the
 * core only.
 */
#ifndef GW_ADAPTER_H
#define GW_ADAPTER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define GW_ADAPTER_ABI_VERSION 1u
#define GW_ADAPTER_ENTRY "gw_adapter_entry"

enum gw_adapter_log_level {
	GW_ADAPTER_LOG_DEBUG,
	GW_ADAPTER_LOG_INFO,
	GW_ADAPTER_LOG_WARN,
	GW_ADAPTER_LOG_ERROR
};

/* One import run; opaque to adapters. */
struct gw_adapter_job;
/* A loaded mapping file; opaque to adapters. */
struct gw_adapter_mapping;

/* A normalized timeline (see normalize.h); empty strings when absent. */
struct gw_adapter_timeline {
	char kind[16];
	char start[11];
	char end[11];
	char due[11];
};

/*
 * The host API table, valid from init to fini. Functions returning int
 * return 0 on success, -1 on failure. Strings returned by the host are
 * allocated with host->alloc and released with host->free.
 */
struct gw_adapter_host {
	uint32_t abi_version; /* GW_ADAPTER_ABI_VERSION of the host */
	uint32_t size;	      /* sizeof(struct gw_adapter_host) */

	void (*log)(enum gw_adapter_log_level lvl, const char *adapter,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	void *(*alloc)(size_t n);
	void *(*realloc)(void *p, size_t n);
	void (*free)(void *p);

	/* The job: input path, mapping path (NULL when none), and the
	 * default organization (the sender) for reporting units. */
	const char *(*job_input)(const struct gw_adapter_job *job);
	const char *(*job_mapping)(const struct gw_adapter_job *job);
	void (*job_sender)(const struct gw_adapter_job *job,
			   const char **org_id, const char **name);

	/*
	 * Hand one canonical payload to the host, which wraps it in an
	 * envelope, validates and writes it. kind: "plan", "task.assignment",
	 * "indicator.report", ...; key: a stable identity within the source
	 * (document number + task path) for deterministic ids; date: the
	 * source's date (YYYY-MM-DD, may be NULL) used as the creation time
	 * in deterministic mode. payload is stolen (a new reference is
	 * consumed even on failure).
	 */
	int (*emit)(struct gw_adapter_job *job, const char *kind,
		    const char *key, const char *date, json_t *payload);
	/* Report a record that could not be mapped: where (FILE:LINE or a
	 * row number) and why. */
	void (*unmapped)(struct gw_adapter_job *job, const char *where,
			 const char *reason);

	/* Normalization helpers (new strings: host->free them). */
	char *(*text)(const char *s); /* NFC, nbsp -> space, trimmed */
	char *(*fold)(const char *s); /* text, then case-folded */
	int (*timeline)(const char *raw, struct gw_adapter_timeline *out);
	int (*period)(const char *s, char out[16]);	    /* 2024, 2024-Q3 */
	int (*decimal)(const char *s, char *out, size_t n); /* "0.6321" */
	int (*date)(const char *s, char out[11]);	    /* 2025-05-14 */
	/* Split a cell naming several units into a JSON array of names. */
	json_t *(*unit_names)(const char *cell);

	/*
	 * Appended: the mapping engine of row-based adapters (csv, sqlite;
	 * gateway/mapping.h, format in docs/ADAPTERS.md) and run reporting.
	 * Check host->size before using them.
	 *
	 * mapping_open reads the job's mapping file (--mapping): NULL when
	 * there is none or it is invalid, with the reason already given to
	 * the job (run then returns -1). mapping_option reads a string
	 * option of the file by JSON Pointer ("/csv/delimiter",
	 * "/sqlite/query"), NULL when absent. mapping_bind binds the
	 * input's header (names NULL when the input has none): 0, or -1 with
	 * the reason given to the job. mapping_row maps one row of cells
	 * (borrowed) read at where ("FILE:LINE"): a row that cannot be
	 * mapped is reported as unmapped with its reason and 0 returned; -1
	 * only when a message could not be written. mapping_finish hands on
	 * the grouped messages (after the last row). mapping_close accepts
	 * NULL.
	 */
	struct gw_adapter_mapping *(*mapping_open)(struct gw_adapter_job *job);
	const char *(*mapping_option)(const struct gw_adapter_mapping *m,
				      const char *ptr);
	int (*mapping_bind)(struct gw_adapter_mapping *m,
			    struct gw_adapter_job *job,
			    const char *const *names, size_t n);
	int (*mapping_row)(struct gw_adapter_mapping *m,
			   struct gw_adapter_job *job, const char *where,
			   const char *const *cells, size_t n);
	int (*mapping_finish)(struct gw_adapter_mapping *m,
			      struct gw_adapter_job *job);
	void (*mapping_close)(struct gw_adapter_mapping *m);
	/* Say why run is about to return -1 ("cannot open 'x.csv': ..."). */
	void (*fail)(struct gw_adapter_job *job, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	/* Progress of a long run: done out of total (bytes, rows); total 0
	 * when unknown. The host draws a bar when stderr is a terminal. */
	void (*progress)(struct gw_adapter_job *job, uint64_t done,
			 uint64_t total);

	/* Appended (check host->size): a string option of the mapping file
	 * the adapter cannot run without ("/sqlite/query"): its value
	 * (borrowed), or NULL with "FILE:LINE: sqlite: query is required
	 * (hint)" given to the job as a bad mapping file (exit 1; run then
	 * returns -1). hint may be NULL. */
	const char *(*mapping_require)(const struct gw_adapter_mapping *m,
				       struct gw_adapter_job *job,
				       const char *ptr, const char *hint);
};

/* The struct an adapter's entry point returns. */
struct gw_adapter {
	uint32_t abi_version; /* GW_ADAPTER_ABI_VERSION */
	uint32_t size;	      /* sizeof(struct gw_adapter) when built */
	const char *name;     /* unique: [a-z0-9-]+ */
	const char *description;
	/* Called once before any run; *state is handed back to run/fini. */
	int (*init)(const struct gw_adapter_host *host, void **state);
	/* Read the job's input and emit messages; 0 when the input could be
	 * read (unmapped rows are reported, not failures). */
	int (*run)(void *state, struct gw_adapter_job *job);
	void (*fini)(void *state);

	/*
	 * The format side (appended to ABI 1; an adapter whose size ends
	 * before these members has none). A format adapter converts between
	 * canonical messages and one wire format. The core parses wire input
	 * with its safe parsers and validates it against the wire schema
	 * before from_wire sees it, and validates what to_wire produced
	 * before anyone else sees it; the adapter only maps trees.
	 *
	 * wire_syntax: GW_ADAPTER_WIRE_XML (the wire tree is a libxml2
	 * xmlDocPtr) or GW_ADAPTER_WIRE_JSON (a json_t *).
	 * media_type: the Content-Type of the wire form.
	 * kinds: the canonical kinds carried, space separated
	 * ("task.assignment task.progress receipt").
	 */
	int wire_syntax;
	const char *media_type;
	const char *kinds;
	/* Canonical message (borrowed, schema-valid) -> a new wire tree in
	 * *wire (xmlDocPtr or json_t *, the caller frees it). Returns 0, or
	 * -1 with a one-line lowercase reason in errbuf. */
	int (*to_wire)(void *state, const json_t *msg, void **wire,
		       char *errbuf, size_t errlen);
	/* Wire tree (borrowed, already valid against the wire schema) -> a
	 * new canonical message in *msg. String values of the form
	 * "urn:lienthong:key:K" at /id, /correlationId and
	 * /payload/messageId are replaced by the host with the UUIDv5 of K,
	 * and "urn:lienthong:sha256:K" at /payload/sha256 with the SHA-256
	 * of K, so ids stay deterministic without adapters hashing. */
	int (*from_wire)(void *state, const void *wire, json_t **msg,
			 char *errbuf, size_t errlen);
	/* The schema the wire form is validated against: an XSD (.xsd) or
	 * JSON Schema (.json) path written to path, relative to schema_dir
	 * unless absolute. The adapter may generate it (e.g. a
	 * dataflow-specific XSD) in a folder it owns until fini. For JSON
	 * Schemas, format is asserted. */
	int (*wire_schema)(void *state, const char *schema_dir, char *path,
			   size_t pathlen, char *errbuf, size_t errlen);
};

#define GW_ADAPTER_WIRE_XML 1
#define GW_ADAPTER_WIRE_JSON 2

/* True when the adapter struct a (of its own declared size) has the
 * format side. */
#define GW_ADAPTER_HAS_FORMAT(a)                                 \
	((a)->size >= offsetof(struct gw_adapter, wire_schema) + \
			      sizeof((a)->wire_schema) &&        \
	 (a)->to_wire && (a)->from_wire && (a)->wire_schema)

typedef const struct gw_adapter *(*gw_adapter_entry_fn)(void);

#ifdef GW_CORE
#include "base/common.h"

struct gw_adapter_registry;

/* One import run, filled by the command that runs an adapter. */
struct gw_adapter_job {
	const char *input;
	const char *mapping; /* may be NULL */
	const char *sender_id;
	const char *sender_name;
	int (*emit)(void *arg, const char *kind, const char *key,
		    const char *date, json_t *payload);
	void (*unmapped)(void *arg, const char *where, const char *reason);
	void *arg;
	/* Optional: a partial message {kind, payload, [sender, receivers,
	 * correlationId, classification]} from the mapping engine (stolen);
	 * problems of the mapping file, one located line each; progress. */
	int (*emit_msg)(void *arg, const char *key, const char *date,
			json_t *msg);
	void (*problem)(void *arg, const char *line);
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	char error[GW_ERR_MSG_MAX]; /* why run failed (host->fail) */
	gw_rc error_rc; /* its kind when the host knows it (mapping: config) */
	int error_reported; /* 1: its lines already went to problem */
};

/* Called for each adapter refused at load, with a complete line. */
typedef void (*gw_adapter_report_cb)(void *arg, const char *line);

/* A registry holding the built-in adapters. */
gw_rc gw_adapter_registry_new(struct gw_adapter_registry **out,
			      struct gw_err *err);
void gw_adapter_registry_free(struct gw_adapter_registry *r);

/* Register one adapter struct (borrowed, must outlive the registry).
 * Refuses a wrong ABI version, a short struct, a missing member or a
 * duplicate name with GW_ERR_REFUSED naming origin. */
gw_rc gw_adapter_register(struct gw_adapter_registry *r,
			  const struct gw_adapter *a, const char *origin,
			  struct gw_err *err);

/* dlopen every *.so of dir; each refused file goes to cb and is skipped,
 * the others are registered. Fails only when dir cannot be read. */
gw_rc gw_adapter_load_dir(struct gw_adapter_registry *r, const char *dir,
			  gw_adapter_report_cb cb, void *arg,
			  struct gw_err *err);

/* Load one shared object, which must lie inside dir. */
gw_rc gw_adapter_load_file(struct gw_adapter_registry *r, const char *dir,
			   const char *path, struct gw_err *err);

const struct gw_adapter *gw_adapter_find(const struct gw_adapter_registry *r,
					 const char *name);
size_t gw_adapter_count(const struct gw_adapter_registry *r);
const struct gw_adapter *gw_adapter_at(const struct gw_adapter_registry *r,
				       size_t i);

/* Run the adapter named name on job, calling its init first once. */
gw_rc gw_adapter_run(struct gw_adapter_registry *r, const char *name,
		     struct gw_adapter_job *job, struct gw_err *err);

/* The adapter named name and its state, calling its init first once
 * (both borrowed from the registry). GW_ERR_USAGE when unknown. */
gw_rc gw_adapter_open(struct gw_adapter_registry *r, const char *name,
		      const struct gw_adapter **a, void **state,
		      struct gw_err *err);

/* The host table of the core (static, never freed). */
const struct gw_adapter_host *gw_adapter_host(void);
#endif

#endif
