# SEV-SNP and Intel DCAP verification throughput over the real samples in tests/data.
if(TARGET scitt_tee)
  scitt_executable(tee_bench SOURCES tee_bench.c LIBS scitt OpenSSL::Crypto)
  target_compile_definitions(tee_bench PRIVATE SCITT_TEST_DATA_DEFAULT="${SCITT_TEST_DATA}")
endif()
