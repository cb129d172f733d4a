ct_unit_test(test_load SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_load.c LIBS ct_analyzer)
ct_unit_test(test_db SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_db.c LIBS ct_analyzer)
ct_unit_test(test_strmap SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_strmap.c LIBS ct_analyzer)
ct_unit_test(test_verify SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_verify.c LIBS ct_analyzer)
