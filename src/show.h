/* SPDX-License-Identifier: MIT */
/*
 * The control socket's `show` commands, in one table (name, arguments,
 * handler, help).  Each builds its rows once, as JSON; the reply is those
 * rows as JSON (`-j`) or rendered as a table.  Both are an interface
 * (SPEC 3): scripts read them.
 */
#ifndef VMDQ_SHOW_H
#define VMDQ_SHOW_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

struct vmdq_switch;

struct show_cmd {
	const char *name;     /* show NAME */
	const char *args;     /* what follows NAME (none so far: "") */
	json_t *(*rows)(struct vmdq_switch *sw);      /* the rows, built once */
	void (*table)(FILE *o, const json_t *rows);   /* those rows as a table */
	const char *help;
};

/* The show command named name, or NULL. */
const struct show_cmd *show_find(const char *name);
/* "queues, filters, vifs, fdb or stats": for the reason of a refusal. */
const char *show_names(void);
/* Runs cmd on sw (workers parked): its reply body, malloc'd (NULL: out of
 * memory). */
char *show_run(const struct show_cmd *cmd, struct vmdq_switch *sw, bool json);

/* The switch's counters: the `show stats` rows and the -s file alike. */
json_t *show_stats_json(struct vmdq_switch *sw);

#endif
