#include "repair.h"

guint repair_component(icalcomponent *cal, GPtrArray *fixes)
{
	(void)cal;
	(void)fixes;
	return 0;
}
