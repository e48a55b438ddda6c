# SPDX-License-Identifier: GPL-2.0-or-later
# Debian packages with CPack's DEB generator (tools/package.sh runs it), one per install
# component:
#   program -> h265direct         the program, the receiver, man pages, the systemd unit, the
#                                 sysusers.d file, /etc/h265direct, the example configuration
#   lib     -> libh265direct0     libh265direct.so.0 (SONAME) and its shlibs file
#   dev     -> libh265direct-dev  headers, h265direct.pc, the libh265direct.so link
#   python  -> python3-h265direct only when some install rule has COMPONENT python
# Depends are computed by dpkg-shlibdeps, plus the libswscale the program loads with dlopen
# (src/frame/swscale_lib.cpp) and adduser for the postinst. File names:
# name_version_arch.deb. Each package has /usr/share/doc/<package>/copyright (tools/deb/copyright,
# machine-readable: the project's GPL-2.0-or-later and what the binaries link).
# The one place of the Maintainer field (of every package and of the changelog). The project
# has no mail address of its own: the default is a reserved .invalid one (RFC 2606) that reaches
# nobody; whoever publishes the packages sets their own.
set(H265D_MAINTAINER "h265direct maintainers <maintainers@h265direct.invalid>" CACHE STRING
    "Maintainer field of the Debian packages (name <address>)")

get_cmake_property(H265D_COMPONENTS COMPONENTS)
set(CPACK_COMPONENTS_ALL program lib dev)
if(python IN_LIST H265D_COMPONENTS)
  list(APPEND CPACK_COMPONENTS_ALL python)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME h265direct)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${H265D_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${H265D_MAINTAINER})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

string(REGEX MATCH "^[0-9]+" H265D_SWSCALE_MAJOR "${SWSCALE_libswscale_VERSION}")
set(CPACK_DEBIAN_PROGRAM_PACKAGE_NAME h265direct)
set(CPACK_DEBIAN_PROGRAM_PACKAGE_DEPENDS "adduser, libswscale${H265D_SWSCALE_MAJOR}")
# --publish loads libavformat and libavcodec (src/publish/avformat_lib.cpp) with dlopen, which
# dpkg-shlibdeps cannot see: recommended (installed by default), since the program runs
# without them and says so in one line when --publish is asked for.
string(REGEX MATCH "^[0-9]+" H265D_AVFORMAT_MAJOR "${AVFORMAT_libavformat_VERSION}")
string(REGEX MATCH "^[0-9]+" H265D_AVCODEC_MAJOR "${AVFORMAT_libavcodec_VERSION}")
set(CPACK_DEBIAN_PROGRAM_PACKAGE_RECOMMENDS
    "libavformat${H265D_AVFORMAT_MAJOR}, libavcodec${H265D_AVCODEC_MAJOR}")
set(CPACK_DEBIAN_PROGRAM_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/tools/deb/postinst ${PROJECT_SOURCE_DIR}/tools/deb/postrm)
set(CPACK_COMPONENT_PROGRAM_DESCRIPTION
    "Camera (V4L2) to H.265 (libx265, lowest latency) to TCP, file or stdout
h265direct captures a V4L2 camera (or a built-in test pattern or a raw
file), encodes it with libx265 for the lowest latency and sends each
access unit over TCP (as a client or to any number of receivers), to a
file or to stdout. h265direct-receiver takes the stream and checks it.
The systemd unit h265direct@NAME runs one camera per configuration file
/etc/h265direct/NAME.conf.")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libh265direct0)
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/tools/deb/libh265direct0/triggers)
set(CPACK_COMPONENT_LIB_DESCRIPTION
    "Camera (V4L2) to H.265 streaming library (shared library)
The engine of h265direct as a C++ library: a V4L2 camera, test pattern
or raw file encoded by libx265 for the lowest latency, each access unit
given to a callback, a file or TCP.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libh265direct-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libh265direct0 (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "Camera (V4L2) to H.265 streaming library (development files)
The headers, the pkg-config file h265direct.pc and the link
libh265direct.so of the C++ library of h265direct.")

set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-h265direct)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
# An extension module is built for one Python version (find_package(Python3) at the top level
# tells which); dpkg-shlibdeps adds the system libraries it links. It also links this
# project's libh265direct.so.0, which dpkg-shlibdeps finds in the build folder (-l) but cannot
# map to a package that is not installed: that dependency is written here.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(H265D_PYTHON_LIB_DEPENDS "libh265direct0 (= ${PROJECT_VERSION})")
if(DEFINED Python3_VERSION_MINOR)
  math(EXPR H265D_PYTHON_NEXT_MINOR "${Python3_VERSION_MINOR} + 1")
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS
      "${H265D_PYTHON_LIB_DEPENDS}, python3 (>= ${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}), python3 (<< ${Python3_VERSION_MAJOR}.${H265D_PYTHON_NEXT_MINOR})")
else()
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "${H265D_PYTHON_LIB_DEPENDS}, python3")
endif()
set(CPACK_COMPONENT_PYTHON_DESCRIPTION
    "Camera (V4L2) to H.265 streaming from Python
The Python module h265direct: the engine of h265direct with its access
units handed to Python.")

# Each package's /usr/share/doc/<package>/changelog.gz (Debian's native-package changelog),
# dated by SOURCE_DATE_EPOCH when set (tools/package.sh: the last commit), and its copyright.
string(TIMESTAMP H265D_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file(${PROJECT_SOURCE_DIR}/tools/deb/changelog.in ${PROJECT_BINARY_DIR}/deb/changelog @ONLY)
file(REMOVE ${PROJECT_BINARY_DIR}/deb/changelog.gz)
find_program(H265D_GZIP gzip REQUIRED)
execute_process(COMMAND ${H265D_GZIP} -9nf ${PROJECT_BINARY_DIR}/deb/changelog
                COMMAND_ERROR_IS_FATAL ANY)
foreach(component IN LISTS CPACK_COMPONENTS_ALL)
  string(TOUPPER ${component} upper)
  install(FILES ${PROJECT_BINARY_DIR}/deb/changelog.gz ${PROJECT_SOURCE_DIR}/tools/deb/copyright
          COMPONENT ${component}
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${CPACK_DEBIAN_${upper}_PACKAGE_NAME})
endforeach()

include(CPack)
