/* SPDX-License-Identifier: MIT */
#ifndef VMDQ_SUBCMDS_H
#define VMDQ_SUBCMDS_H

#include "util.h"

int cmd_sort(int argc, char **argv);
int cmd_transmit(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_switch(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int bench_sort(int argc, char **argv);
int bench_hol(int argc, char **argv);
int bench_switch(int argc, char **argv);

#endif
