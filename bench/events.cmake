# GET /events under load: registrations at a fixed rate with and without 1,000 subscribers in the
# same run, events delivered and their lag, scittd's memory (bench/events_bench.c).
if(TARGET scittd)
  scitt_executable(events_bench SOURCES events_bench.c scittd_run.c httpclient.c
                   LIBS scitt_ledger scitt_server scitt OpenSSL::Crypto)
  target_include_directories(events_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests
                             ${CMAKE_SOURCE_DIR}/bench)
  add_dependencies(events_bench scittd)
endif()
