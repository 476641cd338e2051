/* tool_building --verify: reads discovery messages from stdin with the gateway's own parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/discovery.h"
#include "tests/building/building.h"

int
building_verify(const char *prefix)
{
	char *line = NULL, err[512];
	size_t cap = 0, lineno = 0, good = 0, bad = 0, removed = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) >= 0) {
		struct mqtt_discovery_key k;
		struct mqtt_discovery d;
		char *tab;
		int rc;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		tab = strchr(line, '\t');
		if (tab == NULL) {
			fprintf(stderr, "line %zu: no tab between topic and payload\n", lineno);
			bad++;
			continue;
		}
		*tab = '\0';
		if (!mqtt_discovery_topic(prefix, line, &k)) {
			fprintf(stderr, "line %zu: not a discovery topic under %s: `%s'\n", lineno,
			    prefix, line);
			bad++;
			continue;
		}
		rc = mqtt_discovery_parse(
		    tab + 1, (size_t)(len - (tab + 1 - line)), &d, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "line %zu: %s: %s\n", lineno, line, err);
			bad++;
			continue;
		}
		if (rc == MQTT_DISCOVERY_REMOVED) {
			printf("%s\t%s\t%s\tremoved\n", k.component, k.node_id, k.object_id);
			removed++;
			continue;
		}
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.component, k.node_id,
		    k.object_id, d.product_id, d.state_topic, d.field, d.unit, d.device_class,
		    d.name, d.device_name);
		good++;
	}
	free(line);
	fprintf(stderr, "tool_building: verified %zu configs, %zu removals, %zu refused\n", good,
	    removed, bad);
	return bad == 0 ? 0 : 1;
}
