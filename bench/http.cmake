# The HTTP layer: requests/s and server CPU per request, plain and TLS (server and load client
# in two processes). bench/httpclient.c is the reusable keep-alive load generator.
if(TARGET scitt_server)
  scitt_executable(http_bench SOURCES http_bench.c httpclient.c LIBS scitt_server)
  target_include_directories(http_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/bench)
endif()
