/*
 * fuzz_formats.c - libFuzzer target for the wire formats read by the
 * adapters through adapt/format.c: the first byte picks edXML, report
 * packet XML or JSON (with or without the names of the example profile,
 * conf/profiles/report-packet-vn.yaml), SDMX-ML or SDMX-JSON; the rest is
 * the document, which the server's sniffing of a body sent as
 * application/xml (flow/receive_formats.c) reads too. Run from the
 * repository's top folder (schemas/).
 */
#include <stdint.h>
#include <stdlib.h>

#include "adapt/format.h"
#include "adapt/profile.h"
#include "flow/receive_formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_format *fmt;
	static struct gw_profile *prof;
	static int loaded;
	static const char *const names[] = { "edxml", "report-packet",
					     "report-packet-json", "sdmx-ml",
					     "sdmx-json" };
	struct gw_err err;
	json_t *j = NULL;
	unsigned pick;

	if (size < 1)
		return 0;
	if (!fmt && gw_format_new("schemas", &fmt, &err))
		abort(); /* run from the repository's top folder */
	if (!prof && gw_profile_load("conf/profiles/report-packet-vn.yaml",
				     "schemas", NULL, NULL, &prof, &err))
		abort();
	if (!loaded) {
		gw_recv_formats_load(fmt);
		loaded = 1;
	}
	/* which format a body sent as application/xml is (the server's
	 * reading of the root element's start tag) */
	(void)gw_recv_format_sniff((const char *)data + 1, size - 1);
	pick = data[0] % 5;
	gw_format_from_wire_profile(
		fmt, names[pick],
		(pick == 1 || pick == 2) && (data[0] / 5) % 2 ? prof : NULL,
		(const char *)data + 1, size - 1, "fuzz", &j, NULL, &err);
	json_decref(j);
	return 0;
}
