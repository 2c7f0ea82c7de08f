# quickstart.sh: the README's two commands, as a new user types them on a fresh Debian 12 machine.
./dev demo   # installs what is missing, builds, runs the conformance suite and a demo against the reference implementations
./dev test   # installs what is missing, builds, passes every test (plain, then ASan+UBSan)
