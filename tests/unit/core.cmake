ct_unit_test(test_snapshot SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_snapshot.c LIBS ct_core)
ct_unit_test(test_timefmt SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_timefmt.c LIBS ct_core)
