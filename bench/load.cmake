# Registrations against a running scittd: closed-loop throughput and latency at a fixed rate.
if(TARGET scittd)
  scitt_executable(load SOURCES load.c httpclient.c LIBS scitt_server scitt OpenSSL::Crypto)
  target_include_directories(load PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/bench)
  add_dependencies(load scittd)
endif()
