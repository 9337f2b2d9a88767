/* fuzz_zone.c - zone identification: a TZID text (the input's first
 * line) with, when the rest parses as one, its VTIMEZONE.
 *
 * Invariants: a result names a zone tzdata knows, or none; a conflict
 * names its candidates; the VTIMEZONE made a zone gives libical's offsets
 * at wall-clock times (tzinfo answers from the changes it expands). */
#include "fuzz.h"
#include "tz.h"
#include "tzinfo.h"
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

/* tzinfo's offsets of the zone made from vtz against libical's, at times
 * drawn from the input. */
static void check_offsets(icalcomponent *vtz, const uint8_t *data, size_t size)
{
	icaltimezone *z = tzinfo_vtimezone(vtz);
	guint32 seed = 2166136261u;	/* FNV-1a of the input */
	GRand *rand;

	if (!z)
		return;
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	rand = g_rand_new_with_seed(seed);
	for (int n = 0; n < 64; n++) {
		struct icaltimetype t = icaltime_null_time();
		int dst = 0, theirs;

		t.year = g_rand_int_range(rand, 1958, 2063);
		t.month = g_rand_int_range(rand, 1, 13);
		t.day = g_rand_int_range(rand, 1, icaltime_days_in_month(t.month, t.year) + 1);
		t.hour = g_rand_int_range(rand, 0, 24);
		t.minute = 15 * g_rand_int_range(rand, 0, 4);
		theirs = icaltimezone_get_utc_offset(z, &t, &dst);
		if (getenv("CALFS_FUZZ_DEBUG") && tzinfo_offset_local(z, t) != theirs)
			fprintf(stderr, "at %s: tzinfo %d, libical %d\n", icaltime_as_ical_string(t),
				tzinfo_offset_local(z, t), theirs);
		FUZZ_REQUIRE(tzinfo_offset_local(z, t) == theirs,
			     "tzinfo's offset of a VTIMEZONE is not libical's");
	}
	g_rand_free(rand);
	tzinfo_release(z);
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
	if (q.vtimezone)
		check_offsets((icalcomponent *)q.vtimezone, data, size);
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
