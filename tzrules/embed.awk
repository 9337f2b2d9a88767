# embed.awk - turn tzrules/names.tsv into C (tzrules/zoneid.c reads it)
BEGIN { print "/* generated from tzrules/names.tsv by tzrules/embed.awk */"; print "#include <stddef.h>"; print "const char *const zoneid_table[] = {" }
/^#/ || NF < 3 { next }
{
	for (i = 1; i <= 3; i++) {
		f = $i
		gsub(/\\/, "\\\\", f)
		gsub(/"/, "\\\"", f)
		printf "\t\"%s\",", f
	}
	print ""
}
END { print "\tNULL\n};" }
