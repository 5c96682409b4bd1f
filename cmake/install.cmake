# install.cmake — `cmake --install` for libp3cfg as a C library (docs/api.md, "Using the
# library"): the shared library (SONAME from CMakeLists.txt), optionally the static one
# (-DP3CFG_STATIC=ON), the public headers, a CMake package (p3cfgConfig.cmake with the
# imported target p3cfg::p3cfg), a pkg-config file (p3cfg.pc), the CLI as bin/p3cfg, its
# man page and bash completion. The profiler library (p3cfg_mpi) and its header
# include/p3cfg/mpi.h are installed only where that target is built (MPI and hwloc
# found), as p3cfg::p3cfg_mpi. Included once, at the end of the top-level CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(P3CFG_STATIC "Install the static library (libp3cfg.a) as p3cfg::p3cfg_static" OFF)

set(P3CFG_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/p3cfg)

# The shared library: exported as p3cfg::p3cfg, headers found under the prefix.
set_target_properties(libp3cfg PROPERTIES EXPORT_NAME p3cfg)
target_include_directories(libp3cfg PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
install(TARGETS libp3cfg EXPORT p3cfgTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${CMAKE_SOURCE_DIR}/include/p3cfg.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT dev)
# include/p3cfg/*.h belong to libp3cfg too, except mpi.h (libp3cfg_mpi, below).
file(GLOB P3CFG_SUB_HEADERS ${CMAKE_SOURCE_DIR}/include/p3cfg/*.h)
list(REMOVE_ITEM P3CFG_SUB_HEADERS ${CMAKE_SOURCE_DIR}/include/p3cfg/mpi.h)
if(P3CFG_SUB_HEADERS)
  install(FILES ${P3CFG_SUB_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/p3cfg COMPONENT dev)
endif()

if(P3CFG_STATIC)
  # Its include path points into the source tree for the in-tree tests; installed, it
  # points into the prefix. Its dependencies come back through p3cfgConfig.cmake.
  set_target_properties(p3cfg_static PROPERTIES EXPORT_NAME p3cfg_static)
  set_property(TARGET p3cfg_static PROPERTY INTERFACE_INCLUDE_DIRECTORIES
               $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
               $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  install(TARGETS p3cfg_static EXPORT p3cfgTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
endif()

set(P3CFG_HAVE_MPI_TARGET OFF)
if(TARGET p3cfg_mpi)
  set(P3CFG_HAVE_MPI_TARGET ON)
  set_target_properties(p3cfg_mpi PROPERTIES EXPORT_NAME p3cfg_mpi)
  target_include_directories(p3cfg_mpi PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  install(TARGETS p3cfg_mpi EXPORT p3cfgTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                  NAMELINK_COMPONENT dev)
  install(FILES ${CMAKE_SOURCE_DIR}/include/p3cfg/mpi.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/p3cfg COMPONENT dev)
endif()

# The CLI finds the library beside it in the prefix, wherever the prefix is.
set_target_properties(p3cfg_cli PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
if(TARGET p3cfg_mpi)
  set_target_properties(p3cfg_mpi PROPERTIES INSTALL_RPATH "$ORIGIN")
endif()
install(TARGETS p3cfg_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${CMAKE_SOURCE_DIR}/docs/p3cfg.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT runtime)
install(FILES ${CMAKE_SOURCE_DIR}/cli/p3cfg.bash RENAME p3cfg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT runtime)

# CMake package: find_package(p3cfg 0.1) then target_link_libraries(app p3cfg::p3cfg).
install(EXPORT p3cfgTargets NAMESPACE p3cfg:: DESTINATION ${P3CFG_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/p3cfgConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/p3cfgConfig.cmake
                              INSTALL_DESTINATION ${P3CFG_CMAKE_DIR})
# 0.x: minor versions may break the API (semantic versioning), so only the same minor
# version is compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/p3cfgConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/p3cfgConfig.cmake ${CMAKE_BINARY_DIR}/p3cfgConfigVersion.cmake
        DESTINATION ${P3CFG_CMAKE_DIR} COMPONENT dev)

# pkg-config: `pkg-config --cflags --libs p3cfg` (add --static for libp3cfg.a). The
# prefix is found from where p3cfg.pc lies (${pcfiledir}), so that an install moved with
# `cmake --install --prefix` or DESTDIR still points at itself.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(P3CFG_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH P3CFG_PC_UP "/p3cfg/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p3cfg")
  string(REGEX REPLACE "/$" "" P3CFG_PC_UP "${P3CFG_PC_UP}")
  set(P3CFG_PC_PREFIX "\${pcfiledir}/${P3CFG_PC_UP}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(P3CFG_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(P3CFG_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(P3CFG_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(P3CFG_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/p3cfg.pc.in ${CMAKE_BINARY_DIR}/p3cfg.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/p3cfg.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)
