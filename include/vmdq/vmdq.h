/* SPDX-License-Identifier: MIT */
/* vmdq/vmdq.h - everything libvmdq offers. */
#ifndef VMDQ_VMDQ_H
#define VMDQ_VMDQ_H
#include "vmdq/device.h"
#include "vmdq/cmd.h"
#include "vmdq/pcapio.h"
#endif
