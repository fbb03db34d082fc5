# What asking witnesses costs a log: registrations/s with three witnesses configured against none
# in the same run, and the time from a signed head to it being witnessed (bench/witness_bench.c).
if(TARGET scittd AND TARGET scitt_cli)
  scitt_executable(witness_bench SOURCES witness_bench.c scittd_run.c httpclient.c
                   LIBS scitt_ledger scitt_server scitt_client_static scitt OpenSSL::Crypto)
  target_include_directories(witness_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests
                             ${CMAKE_SOURCE_DIR}/bench)
  add_dependencies(witness_bench scittd scitt_cli)
endif()
