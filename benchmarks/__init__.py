"""On-demand benchmarks (issue 8): ingestion against Debian Dovecot, memory, CLI start-up; `make bench`."""
