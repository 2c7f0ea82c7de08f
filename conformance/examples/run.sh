# run.sh: the suite against a child and a parent, as anyone runs it against their own (here, three of the project's).
conformance/run --child conformance/testees/py_testee.py
conformance/run --parent build/conformance/cord-parent-testee    # it starts the child command appended to it
conformance/run --child build/sdk/child/testee/cord-child-testee --binding all --strict --report build/reports
