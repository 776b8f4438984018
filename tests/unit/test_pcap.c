/* SPDX-License-Identifier: MIT */
/* The capture reader and writer. */
#include <stdio.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "helpers.h"

static char dir[] = "/tmp/vmdq-test-pcap-XXXXXX";
static char path[256];

static void round_trip_keeps_bytes_lengths_and_ns(void **s)
{
	(void)s;
	char err[512];
	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	struct vmdq_pcap_writer *w = vmdq_pcap_create(path, err, sizeof(err));
	assert_non_null(w);
	uint8_t f[100];
	for (int i = 0; i < 100; i++)
		f[i] = (uint8_t)i;
	assert_int_equal(vmdq_pcap_write(w, f, 100, 100, 1700000000123456789ull), 0);
	assert_int_equal(vmdq_pcap_write(w, f, 40, 1500, 1700000001000000001ull), 0);
	assert_int_equal(vmdq_pcap_finish(w), 0);
	struct vmdq_pcap_reader *r = vmdq_pcap_open(path, err, sizeof(err));
	assert_non_null(r);
	struct vmdq_frame fr;
	assert_int_equal(vmdq_pcap_next(r, &fr), 1);
	assert_int_equal(fr.caplen, 100);
	assert_int_equal(fr.len, 100);
	assert_int_equal(fr.ts_ns, 1700000000123456789ull);
	assert_memory_equal(fr.data, f, 100);
	assert_int_equal(vmdq_pcap_next(r, &fr), 1);
	assert_int_equal(fr.caplen, 40);
	assert_int_equal(fr.len, 1500);
	assert_int_equal(fr.ts_ns, 1700000001000000001ull);
	assert_int_equal(vmdq_pcap_next(r, &fr), 0);
	vmdq_pcap_close(r);
}

static void reads_microsecond_files(void **s)
{
	(void)s;
	snprintf(path, sizeof(path), "%s/us.pcap", dir);
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(p, path);
	struct pcap_pkthdr h = { .ts = { 5, 250 }, .caplen = 60, .len = 60 };
	uint8_t f[60] = { 0 };
	pcap_dump((u_char *)d, &h, f);
	pcap_dump_close(d);
	pcap_close(p);
	char err[512];
	struct vmdq_pcap_reader *r = vmdq_pcap_open(path, err, sizeof(err));
	assert_non_null(r);
	struct vmdq_frame fr;
	assert_int_equal(vmdq_pcap_next(r, &fr), 1);
	assert_int_equal(fr.ts_ns, 5000250000ull);
	vmdq_pcap_close(r);
}

static void refuses_non_pcap_and_non_ethernet(void **s)
{
	(void)s;
	char err[512];
	snprintf(path, sizeof(path), "%s/text.pcap", dir);
	FILE *f = fopen(path, "w");
	fputs("this is not a capture at all, just some text\n", f);
	fclose(f);
	assert_null(vmdq_pcap_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a pcap or pcapng capture"));
	snprintf(path, sizeof(path), "%s/raw.pcap", dir);
	pcap_t *p = pcap_open_dead(DLT_RAW, 65535);
	pcap_dumper_t *d = pcap_dump_open(p, path);
	pcap_dump_close(d);
	pcap_close(p);
	assert_null(vmdq_pcap_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "is not Ethernet"));
	assert_null(vmdq_pcap_open("/nonexistent/x.pcap", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

static void damaged_file_reports_error(void **s)
{
	(void)s;
	char err[512];
	snprintf(path, sizeof(path), "%s/cut.pcap", dir);
	struct vmdq_pcap_writer *w = vmdq_pcap_create(path, err, sizeof(err));
	uint8_t f[200] = { 0 };
	vmdq_pcap_write(w, f, 200, 200, 1);
	vmdq_pcap_write(w, f, 200, 200, 2);
	vmdq_pcap_finish(w);
	assert_int_equal(truncate(path, 24 + 16 + 200 + 16 + 50), 0);
	struct vmdq_pcap_reader *r = vmdq_pcap_open(path, err, sizeof(err));
	assert_non_null(r);
	struct vmdq_frame fr;
	assert_int_equal(vmdq_pcap_next(r, &fr), 1);
	assert_int_equal(vmdq_pcap_next(r, &fr), -1);
	assert_true(strlen(vmdq_pcap_error(r)) > 0);
	vmdq_pcap_close(r);
}

int main(void)
{
	assert_non_null(mkdtemp(dir));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_keeps_bytes_lengths_and_ns),
		cmocka_unit_test(reads_microsecond_files),
		cmocka_unit_test(refuses_non_pcap_and_non_ethernet),
		cmocka_unit_test(damaged_file_reports_error),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
