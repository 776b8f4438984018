/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int add_line(struct config_line **v, size_t *n, size_t *cap,
		    unsigned line, const struct vmdq_cmd *c)
{
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 32;
		struct config_line *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = (struct config_line){ .line = line, .cmd = *c };
	return 0;
}

static int sched_cmp(const void *a, const void *b)
{
	const struct config_line *x = a, *y = b;
	if (x->cmd.at != y->cmd.at)
		return x->cmd.at < y->cmd.at ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

int config_run(const struct config *cfg, const struct config_line *l,
	       struct vmdq_dev *dev)
{
	char err[VMDQ_ERRMSG_MAX];
	const struct vmdq_cmd *c = l->cmd.kind == VMDQ_CMD_AT ? l->cmd.sub : &l->cmd;
	if (vmdq_cmd_apply(dev, c, NULL, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s:%u: %s\n", cfg->path, l->line, err);
		return -1;
	}
	return 0;
}

int config_apply_init(const struct config *cfg, struct vmdq_dev *dev)
{
	int rc = 0;
	vmdq_dev_batch_begin(dev);
	for (size_t i = 0; i < cfg->ninit && rc == 0; i++)
		rc = config_run(cfg, &cfg->init[i], dev);
	vmdq_dev_batch_commit(dev);
	return rc;
}

/* The one loader: every line through the one parser, FILE:LINE: reason for
 * the first bad one.  allow_at: `at` lines go to the schedule; allow_switch:
 * the switch's lines (uplink, vif) are kept with the device's, in order. */
static int config_parse(const char *path, struct config *cfg, bool allow_at,
			bool allow_switch)
{
	memset(cfg, 0, sizeof(*cfg));
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "vmdq: %s: %s\n", path, strerror(errno));
		return -1;
	}
	cfg->path = strdup(path);
	size_t cap_init = 0, cap_sched = 0;
	char *line = NULL;
	size_t lcap = 0;
	unsigned lineno = 0;
	int rc = 0;
	char err[VMDQ_ERRMSG_MAX];
	ssize_t got;
	while (rc == 0 && (got = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		struct vmdq_cmd c;
		if (strlen(line) != (size_t)got) {
			fprintf(stderr, "%s:%u: unexpected NUL character\n", path, lineno);
			rc = -1;
			break;
		}
		if (vmdq_cmd_parse(line, &c, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s:%u: %s\n", path, lineno, err);
			rc = -1;
			break;
		}
		if (c.kind == VMDQ_CMD_NONE)
			continue;
		if (c.kind == VMDQ_CMD_AT && !allow_at) {
			fprintf(stderr, "%s:%u: at: only vmdq sort runs a schedule\n", path, lineno);
			vmdq_cmd_clear(&c);
			rc = -1;
			break;
		}
		if (vmdq_cmd_is_switch(&c) && !allow_switch) {
			/* the reason the device gives for it */
			vmdq_cmd_apply(NULL, &c, NULL, 0, err, sizeof(err));
			fprintf(stderr, "%s:%u: %s\n", path, lineno, err);
			vmdq_cmd_clear(&c);
			rc = -1;
			break;
		}
		int arc = c.kind == VMDQ_CMD_AT
			? add_line(&cfg->sched, &cfg->nsched, &cap_sched, lineno, &c)
			: add_line(&cfg->init, &cfg->ninit, &cap_init, lineno, &c);
		if (arc < 0) {
			vmdq_cmd_clear(&c);
			fprintf(stderr, "%s:%u: out of memory\n", path, lineno);
			rc = -1;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "vmdq: %s: read error\n", path);
		rc = -1;
	}
	free(line);
	fclose(f);
	if (rc < 0)
		config_free(cfg);
	return rc;
}

int config_load_switch(const char *path, struct config *cfg)
{
	return config_parse(path, cfg, false, true);
}

int config_load(const char *path, struct config *cfg, bool allow_at)
{
	int rc = config_parse(path, cfg, allow_at, false);
	if (rc == 0) {
		if (cfg->nsched)
			qsort(cfg->sched, cfg->nsched, sizeof(cfg->sched[0]), sched_cmp);
		/* Dry run on a scratch device: the commands do not depend on
		 * the frames, so this finds every error the real run would. */
		struct vmdq_dev *scratch = vmdq_dev_create();
		if (!scratch) {
			fprintf(stderr, "vmdq: out of memory\n");
			rc = -1;
		} else {
			rc = config_apply_init(cfg, scratch);
			for (size_t i = 0; rc == 0 && i < cfg->nsched; i++)
				rc = config_run(cfg, &cfg->sched[i], scratch);
			vmdq_dev_destroy(scratch);
		}
	}
	if (rc < 0)
		config_free(cfg);
	return rc;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->ninit; i++)
		vmdq_cmd_clear(&cfg->init[i].cmd);
	for (size_t i = 0; i < cfg->nsched; i++)
		vmdq_cmd_clear(&cfg->sched[i].cmd);
	free(cfg->init);
	free(cfg->sched);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
