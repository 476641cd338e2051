/* Wall-clock time in milliseconds for the daemon, the CLI and the test tools. */
#include <time.h>

#include "util/clock.h"

int64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
