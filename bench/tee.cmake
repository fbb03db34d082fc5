# SEV-SNP verification throughput over the real samples.
if(TARGET scitt_tee)
  scitt_executable(tee_bench SOURCES tee_bench.c LIBS scitt OpenSSL::Crypto)
  target_compile_definitions(tee_bench PRIVATE SCITT_SHARED_DIR_DEFAULT="${SCITT_SHARED_DIR}")
endif()
if(TARGET tee_bench)
  # The DCAP figures read the real samples copied into tests/data/dcap.
  target_compile_definitions(tee_bench PRIVATE SCITT_SOURCE_DIR_DEFAULT="${CMAKE_SOURCE_DIR}")
endif()
