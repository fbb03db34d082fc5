# Benchmarks against a running scittd: registrations (closed loop, fixed-rate latency) and the
# 10M-entry scale run. Both start the scittd built here.
if(TARGET scittd)
  foreach(b load scale pg_reads)
    scitt_executable(${b} SOURCES ${b}.c scittd_run.c httpclient.c
                     LIBS scitt_ledger scitt_server scitt OpenSSL::Crypto)
    target_include_directories(${b} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/bench)
    add_dependencies(${b} scittd)
  endforeach()
  # the check stage alone, in process
  scitt_executable(check_bench SOURCES check_bench.c scittd_run.c httpclient.c
                   LIBS scitt_ledger scitt_server scitt OpenSSL::Crypto)
  target_include_directories(check_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests
                             ${CMAKE_SOURCE_DIR}/bench)
endif()
# The load generator's registration check: only a 201 whose receipt verifies counts.
if(TARGET scittd)
  scitt_unit_test(test_bench_check SOURCES test_bench_check.c scittd_run.c httpclient.c
                  LIBS scitt_ledger scitt_server scitt OpenSSL::Crypto)
  target_include_directories(test_bench_check PRIVATE ${CMAKE_SOURCE_DIR}/bench)
endif()
