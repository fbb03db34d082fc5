# SEV-SNP verification throughput over the real samples.
if(TARGET scitt_tee)
  scitt_executable(tee_bench SOURCES tee_bench.c LIBS scitt OpenSSL::Crypto)
  target_compile_definitions(tee_bench PRIVATE SCITT_TEST_DATA_DEFAULT="${SCITT_TEST_DATA}")
endif()
