# Fuzz targets of the daemon side: the registration policy file (ledger), the /query string, the
# configuration file, and the SCRAPI request handling from request to response over the memory
# transport (server/).
if(TARGET scitt_ledger)
  scitt_fuzz_target(policy_check SOURCES policy_check.c LIBS scitt_ledger scitt)
endif()
if(TARGET scitt_daemon)
  scitt_fuzz_target(query_string SOURCES query_string.c ${CMAKE_SOURCE_DIR}/server/query_parse.c
    LIBS scitt_server scitt)
  scitt_fuzz_target(scrapi SOURCES scrapi.c LIBS scitt_daemon scitt_server scitt_ledger scitt_tee_acquire scitt)
  scitt_fuzz_target(config_file SOURCES config_file.c
    LIBS scitt_daemon scitt_server scitt_ledger scitt_tee_acquire scitt)

  scitt_fuzz_target(media_headers SOURCES media_headers.c ${CMAKE_SOURCE_DIR}/server/media.c
    LIBS scitt_server scitt ZLIB::ZLIB)
  foreach(t query_string scrapi config_file media_headers)
    foreach(kind replay fuzz)
      if(TARGET ${kind}_${t})
        target_include_directories(${kind}_${t} PRIVATE ${CMAKE_SOURCE_DIR}/server)
      endif()
    endforeach()
  endforeach()
endif()
