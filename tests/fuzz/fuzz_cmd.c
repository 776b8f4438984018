/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the command-language parser, and applying what it accepts to
 * a device.  Input is text, one command per line (as a config file or the
 * control socket would deliver it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmdq/vmdq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmdq_dev *dev;
	if (!dev)
		dev = vmdq_dev_create(); /* kept: state carries across inputs */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char err[VMDQ_ERRMSG_MAX], out[64];
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		struct vmdq_cmd c;
		err[0] = '\0';
		int rc = vmdq_cmd_parse(line, &c, err, sizeof(err));
		if (rc < 0) {
			if (!err[0])
				abort(); /* every refusal says why */
			continue;
		}
		const struct vmdq_cmd *run = c.kind == VMDQ_CMD_AT ? c.sub : &c;
		rc = vmdq_cmd_apply(dev, run, out, sizeof(out), err, sizeof(err));
		if (rc < 0 && !err[0])
			abort();
		vmdq_cmd_clear(&c);
	}
	free(text);
	return 0;
}
