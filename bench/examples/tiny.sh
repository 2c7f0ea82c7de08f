# tiny.sh: the tiny static child's footprint beside the floor, from the root of the tree (the bench/tiny-readme test runs it).
bench/tiny/footprint.py --dir build/bench/tiny
