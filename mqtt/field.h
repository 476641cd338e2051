/* RFC 6901 JSON Pointers over raw MQTT payloads: compiled from the config, applied per message. */
#ifndef MQTT_FIELD_H
#define MQTT_FIELD_H

#include <stddef.h>
#include <stdint.h>

/*
 * A building publishes one JSON document per device (zigbee2mqtt
 * {"temperature":21.3,"humidity":40,...}); the gateway sells one field of
 * it. mqtt_field_parse() compiles a pointer such as "/temperature" once,
 * from the config; mqtt_field_select() finds that field in each payload and
 * returns its exact bytes: no tree, no allocation, no copy, no I/O.
 */

/* Bytes of pointer text, without the NUL (a config value, not a payload). */
#define MQTT_FIELD_POINTER_MAX 256
/* Reference tokens in one pointer ("/a/b" has two). */
#define MQTT_FIELD_TOKENS_MAX 16
/* Containers open at once in a payload: [[...]] 32 deep passes, 33 does
 * not. It bounds the scanner's recursion, so a hostile payload cannot
 * exhaust the stack. */
#define MQTT_FIELD_DEPTH_MAX 32
/* Bytes of a value quoted in an error message (mqtt_field_quote()). */
#define MQTT_FIELD_QUOTE_MAX 64

/* What mqtt_field_select() found; the daemon counts the last two apart. */
enum {
	MQTT_FIELD_NOT_JSON = -1, /* the payload is not one valid JSON text */
	MQTT_FIELD_SELECTED = 0,
	MQTT_FIELD_ABSENT = 1, /* valid JSON, but the pointer names nothing in it */
};

/* Token index that no array element has. */
#define MQTT_FIELD_NO_INDEX SIZE_MAX

/*
 * A compiled pointer: plain data with no pointers inside, so it may be
 * copied, kept in a product's struct and shared by threads; nothing to
 * free. Its fields are the parser's; read them only in tests.
 */
struct mqtt_field {
	size_t ntok; /* 0: the whole document; above MQTT_FIELD_TOKENS_MAX: selects nothing */
	struct mqtt_field_token {
		uint16_t off; /* into names */
		uint16_t len; /* unescaped bytes */
		size_t index; /* as an array index, or MQTT_FIELD_NO_INDEX */
	} tok[MQTT_FIELD_TOKENS_MAX];
	char names[MQTT_FIELD_POINTER_MAX]; /* the unescaped tokens back to back, no NULs */
};

/*
 * Compiles pointer (RFC 6901 section 3, the plain string form): "" is the
 * whole document; otherwise "/" then tokens separated by "/", in which "~1"
 * stands for "/" and "~0" for "~". "/" alone names the member "". Refused,
 * with err set to "`POINTER': reason" (the caller adds what it was for):
 * more than MQTT_FIELD_POINTER_MAX bytes or MQTT_FIELD_TOKENS_MAX tokens, a
 * first byte other than "/" (the URI fragment form "#/a" is not read), "~"
 * followed by anything but 0 or 1 or by nothing, and ill-formed UTF-8.
 * Returns 0, or -1 with *f set to select nothing (every select answers
 * MQTT_FIELD_ABSENT), never the whole document.
 *
 * A token does not say whether it names a member or an index: "/0" selects
 * the member "0" of an object and the first element of an array. Only "0"
 * and [1-9][0-9]* index an array (no "01", no "+1"); "-" (RFC 6901's "past
 * the end") never selects anything.
 */
int mqtt_field_parse(struct mqtt_field *f, const char *pointer, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Selects f's value in json[0..len) and returns MQTT_FIELD_SELECTED with
 * *value and *vlen set to its exact bytes inside json (borrowed: valid as
 * long as json is). The span is the value as written: 21.30 stays "21.30",
 * 12345678901234567890 keeps every digit, a string keeps its quotes and
 * escapes, an object or array comes whole; whitespace around it is not
 * included. Otherwise *value is NULL and *vlen 0, and the result is
 * MQTT_FIELD_NOT_JSON or MQTT_FIELD_ABSENT (the enum above).
 *
 * Valid JSON is RFC 8259 exactly, for the whole input even past the
 * selected value (trailing bytes make it not JSON): one value of any kind
 * with optional whitespace around it (a bare 21.30 is a document); numbers
 * with fractions and exponents; no NaN, Infinity, single quotes, comments,
 * trailing commas or byte-order mark; strings of well-formed UTF-8 (checked
 * by util_utf8_valid) with no raw control bytes and no lone surrogate
 * escape (\ud800 alone); \u0000 is valid; at most MQTT_FIELD_DEPTH_MAX
 * containers deep. json is never read at or past len (it need not be
 * NUL-terminated); the size limit is the caller's.
 *
 * Member names are compared after their escapes are decoded, so
 * "\u0074emperature" is named "temperature".
 *
 * Duplicate names: RFC 8259 leaves a repeated name to each parser (cJSON
 * takes the first, JavaScript and Python the last), so a buyer reading the
 * whole payload could see another value than the one we sold. If a name
 * the pointer follows occurs twice in the same object, the payload is
 * MQTT_FIELD_NOT_JSON. Other duplicates are not looked for (that would
 * cost a set per object); they do not change what the pointer selects.
 */
int mqtt_field_select(const struct mqtt_field *f, const char *json, size_t len, const char **value,
    size_t *vlen) __attribute__((warn_unused_result));

/*
 * Writes s[0..len) into dst[cap] for an error message and returns dst: at
 * most MQTT_FIELD_QUOTE_MAX bytes of s (whole UTF-8 sequences), then "..."
 * if it was cut; control bytes, DEL, backslash and ill-formed UTF-8 as \xNN,
 * so a value that came from the network cannot forge a log line. Always
 * NUL-terminated when cap > 0; 4 * MQTT_FIELD_QUOTE_MAX + 4 bytes hold any
 * result.
 */
const char *mqtt_field_quote(char *dst, size_t cap, const char *s, size_t len);

#endif
