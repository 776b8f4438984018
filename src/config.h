/* SPDX-License-Identifier: MIT */
/*
 * Config files, read by one loader through the one parser (vmdq/cmd.h).
 * For the offline tools every line is parsed and every command tried on a
 * scratch device before anything runs, so a bad line is reported as
 * FILE:LINE: reason and nothing is half applied.  For the switch every line
 * is parsed before any is applied; it applies them in order and stops at
 * the first refused (FILE:LINE: reason), tearing everything down.
 */
#ifndef VMDQ_CONFIG_H
#define VMDQ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "vmdq/cmd.h"

struct config_line {
	unsigned line;
	struct vmdq_cmd cmd; /* for `at`, cmd.at and cmd.sub */
};

struct config {
	char *path;
	struct config_line *init;  /* in file order */
	size_t ninit;
	struct config_line *sched; /* `at` lines, by frame then file order */
	size_t nsched;
};

/* Loads and validates PATH.  On error prints FILE:LINE: reason to stderr
 * and returns -1 (cfg left empty). */
int config_load(const char *path, struct config *cfg, bool allow_at);
/* Loads PATH for vmdq switch: device and switch lines (uplink, vif), all
 * in cfg->init in file order, none applied; errors as for config_load. */
int config_load_switch(const char *path, struct config *cfg);
/* Applies the non-`at` lines to dev as one batch (validated already). */
int config_apply_init(const struct config *cfg, struct vmdq_dev *dev);
/* Runs one scheduled line; errors are reported as FILE:LINE: reason. */
int config_run(const struct config *cfg, const struct config_line *l,
	       struct vmdq_dev *dev);
void config_free(struct config *cfg);

#endif
