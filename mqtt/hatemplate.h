/* Home Assistant value_template to JSON Pointer: the plain field reads devices announce. */
#ifndef MQTT_HATEMPLATE_H
#define MQTT_HATEMPLATE_H

#include <stddef.h>

/* Bytes of a value_template read; a longer one is refused. */
#define MQTT_HATEMPLATE_MAX 1024

/*
 * Translates a Home Assistant MQTT discovery value_template (a Jinja
 * expression over the payload) into an RFC 6901 pointer for
 * mqtt_field_parse(), when the template only reads one field:
 *
 *   {{ value_json.temperature }}, {{value_json.temperature}}   "/temperature"
 *   {{ value_json['a b'] }}, {{ value_json["a/b"] }}            "/a b", "/a~1b"
 *   {{ value_json.AM2301.Temperature }}, value_json['a']['b'],
 *   value_json.a['b'], value_json.list[0], value_json.list.0   "/AM2301/Temperature", ...
 *   {{ value }}                                                 "" (the whole payload)
 *
 * Whitespace is allowed between the tokens, around the braces and as
 * Jinja's {{- -}} (Home Assistant strips the rendered result). Everything
 * else is refused, never guessed at: filters (| float, | round(1)),
 * arithmetic, tests (is defined), if/else, calls, several expressions,
 * statements ({% %}), text outside the braces, `{{ value_json }}' (which
 * renders the parsed payload as Python, not as the payload), negative or
 * zero-led indexes, escapes inside quoted names, and a dotted name that
 * Jinja would resolve to a Python attribute before the member (items,
 * keys, values, get, ...; __anything), since Jinja's getattr prefers the
 * attribute. A dotted name is ASCII [A-Za-z_][A-Za-z0-9_]*; a bracketed
 * name is any UTF-8 without backslashes or control bytes.
 *
 * Two things the pointer cannot say: a value is sold as its JSON text
 * ("21.30", a string with its quotes), where Home Assistant shows the
 * rendered Python value (21.3); and "/0" selects a member "0" of an object
 * as well as element 0 of an array, where Jinja's [0] reads only arrays
 * and ['0'] only objects. {{ value }} becomes "", which selects only a
 * payload that is valid JSON; Home Assistant would take any text.
 *
 * Writes the NUL-terminated pointer into pointer[cap] (MQTT_FIELD_POINTER_MAX
 * + 1 bytes always suffice) and returns 0; it always passes
 * mqtt_field_parse(). Otherwise returns -1 with pointer set to "" (which is
 * a valid pointer: check the result) and err set to "`TEMPLATE': reason",
 * the template quoted by mqtt_field_quote() since it came from the network.
 */
int mqtt_hatemplate_to_pointer(const char *tmpl, char *pointer, size_t cap, char *err,
    size_t errlen) __attribute__((warn_unused_result));

#endif
