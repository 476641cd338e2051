/* Republishing bought samples into the buyer's own MQTT broker (sdpp buy --mqtt-out). */
#ifndef CLI_MQTT_OUT_H
#define CLI_MQTT_OUT_H

#include <stddef.h>
#include <stdint.h>

struct mqtt_out;

/* Connects (waiting at most 10 s); NULL with err on failure. */
struct mqtt_out *mqtt_out_open(const char *uri, int qos, char *err, size_t errlen);
/* Queues one publish; 0 or -1. */
int mqtt_out_publish(struct mqtt_out *o, const char *topic, const uint8_t *payload, size_t len);
/* Waits for queued messages (at most 5 s), disconnects, frees. NULL-safe. */
void mqtt_out_close(struct mqtt_out *o);

#endif
