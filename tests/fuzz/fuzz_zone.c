/* fuzz_zone.c - zone identification: a TZID text (the input's first
 * line) with, when the rest parses as one, its VTIMEZONE.
 *
 * Invariants: a result names a zone tzdata knows, or none; a conflict
 * names its candidates. */
#include "fuzz.h"
#include "tz.h"
#include "zoneid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tz_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - (const char *)data) : size;
	char *tzid = g_strndup((const char *)data, first);
	char *rest = nl ? g_strndup(nl + 1, size - first - 1) : NULL;
	icalcomponent *vtz = NULL;
	struct icaltimetype times[2];
	zoneid_query q = { .tzid = tzid, .cdo = -1, .year_from = 1990, .year_to = 2006,
			   .mailbox_zone = "America/Chicago", .times = times, .n_times = 2 };
	zoneid_result *r;

	times[0] = icaltime_from_string("20060402T020000");
	times[1] = icaltime_from_string("20071104T013000");
	if (rest) {
		vtz = icalparser_parse_string(rest);
		if (vtz && icalcomponent_isa(vtz) != ICAL_VTIMEZONE_COMPONENT) {
			icalcomponent *inner =
				icalcomponent_get_first_component(vtz, ICAL_VTIMEZONE_COMPONENT);
			q.vtimezone = inner;
		} else {
			q.vtimezone = vtz;
		}
	}
	if (first > 0 && g_ascii_isdigit(tzid[0]))
		q.cdo = atoi(tzid) & 0xff;
	r = zoneid_identify(&q);
	FUZZ_REQUIRE(r != NULL, "no result");
	if (r->zone)
		FUZZ_REQUIRE(icaltimezone_get_builtin_timezone(r->zone) != NULL,
			     "identified a zone tzdata does not know");
	if (r->method == ZONEID_CONFLICT)
		FUZZ_REQUIRE(r->candidates && *r->candidates, "a conflict without candidates");
	zoneid_result_free(r);
	g_free(zoneid_iana(tzid));
	g_free(zoneid_normalize(tzid));
	if (vtz)
		icalcomponent_free(vtz);
	g_free(rest);
	g_free(tzid);
	return 0;
}
