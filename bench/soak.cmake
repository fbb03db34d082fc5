# The memory soak of the daemon (`make soak`): capacity, then 70% of it for SOAK_SECONDS.
if(TARGET scittd)
  scitt_executable(scittd_soak SOURCES soak.c httpclient.c LIBS scitt_server scitt)
  target_include_directories(scittd_soak PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/bench)
  add_dependencies(scittd_soak scittd)
endif()
