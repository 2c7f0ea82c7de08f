# install-and-link.sh: installs Cord from the build tree $build under $prefix, then builds a parent and a child against it.
cmake --install "$build" --prefix "$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LD_LIBRARY_PATH="$prefix/lib"
cc -o parent parent.c $(pkg-config --cflags --libs cord)          # the parent SDK, libcord.so
cc -o child child.c $(pkg-config --cflags --libs cord-child)      # the child SDK, static: a child needs nothing installed
./parent ./child
