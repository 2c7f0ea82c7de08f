# bench.sh: the benchmark suite as a user runs it, from the root of the tree.
./dev bench            # installs what is missing, builds, runs the whole suite (a few minutes)
./dev bench --quick    # every case once, with small counts: proves the suite works (the bench/quick test)
