#!/usr/bin/env python3
"""table.py: joins the survey's columns into the Markdown table sdk/c/README.md shows; with --check README, fails if the README's differs."""
import sys

args = sys.argv[1:]
readme = None
if args[:1] == ['--check']:
    readme, args = args[1], args[2:]
names, columns = [], []
for arg in args:  # NAME=FILE
    name, path = arg.split('=', 1)
    names.append(name)
    columns.append([line.rstrip('\n').split('\t') for line in open(path)])
rows = ['| text | JSON? | ' + ' | '.join(names) + ' |', '|---|---|' + '---|' * len(names)]
for i, first in enumerate(columns[0]):
    rows.append(f'| {first[0]} | {"yes" if first[1] == "1" else "no"} | ' + ' | '.join(c[i][2] for c in columns) + ' |')
table = '\n'.join(rows) + '\n'
if readme is None:
    sys.stdout.write(table)
    sys.exit(0)
text = open(readme).read()
begin, end = '<!-- json-survey -->\n', '<!-- /json-survey -->'
shown = text[text.index(begin) + len(begin):text.index(end)]
if shown != table:
    sys.stdout.write('the README table differs from the survey; the survey says:\n' + table)
    sys.exit(1)
print('the README table is the survey\'s')
