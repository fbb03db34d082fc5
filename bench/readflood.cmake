# Registration latency beside a flood of costly reads (/query), against a scittd it starts.
if(TARGET scittd)
  scitt_executable(readflood SOURCES readflood.c scittd_run.c httpclient.c
                   LIBS scitt_ledger scitt_server scitt OpenSSL::Crypto)
  target_include_directories(readflood PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/bench)
  add_dependencies(readflood scittd)
endif()
