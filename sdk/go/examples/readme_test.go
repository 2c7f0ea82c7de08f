// readme_test.go: every Go snippet of sdk/go/README.md is a file of this folder, word for word, which the build compiles and the tests run.

package examples

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestReadmeSnippetsAreFiles(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatchIndex(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("the README has no Go snippet")
	}
	marker := regexp.MustCompile(`<!-- file: (\S+) -->\n$`)
	for _, b := range blocks {
		m := marker.FindSubmatch(readme[:b[0]])
		if m == nil {
			t.Errorf("the snippet at byte %d is not preceded by <!-- file: PATH -->", b[0])
			continue
		}
		file, err := os.ReadFile(filepath.Join("..", string(m[1])))
		if err != nil {
			t.Errorf("snippet %s: %v", m[1], err)
			continue
		}
		if string(file) != string(readme[b[2]:b[3]]) {
			t.Errorf("the README's %s differs from the file", m[1])
		}
	}
}
