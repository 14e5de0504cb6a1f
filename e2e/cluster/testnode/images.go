package main

// The "images" of the test node: each image name maps to a bin directory of
// symlinks to host programs, which becomes the container's only PATH entry.
// That is enough to test shell fallback (bash -> sh -> no shell) without a
// container runtime.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// coreutils every image with a shell offers.
var coreutils = []string{
	"stty", "sleep", "cat", "echo", "printf", "ls", "env", "id", "head", "tail",
	"tr", "wc", "kill", "ps", "true", "false", "pwd", "mkdir", "rm", "touch",
	"grep", "sed", "uname", "date", "seq", "tty", "whoami", "hostname", "yes",
	"sort", "uniq", "cut", "basename", "dirname", "readlink", "test", "expr",
	"nproc", "clear", "tput", "sha256sum", "dd", "od",
}

// imageSpec describes one known image.
type imageSpec struct {
	// programs maps a name in the image's bin dir to candidate host program
	// names, first found wins.
	programs map[string][]string
	// defaultArgv runs when the pod spec gives neither command nor args, like
	// an image's ENTRYPOINT/CMD.
	defaultArgv []string
}

func knownImages() map[string]imageSpec {
	withShell := func(shells map[string][]string) map[string][]string {
		m := map[string][]string{}
		for _, p := range coreutils {
			m[p] = []string{p}
		}
		for k, v := range shells {
			m[k] = v
		}
		return m
	}
	return map[string]imageSpec{
		"webshell.test/bash": {
			programs:    withShell(map[string][]string{"bash": {"bash"}, "sh": {"dash", "sh"}}),
			defaultArgv: []string{"bash"},
		},
		"webshell.test/sh": {
			programs:    withShell(map[string][]string{"sh": {"dash", "sh"}}),
			defaultArgv: []string{"sh"},
		},
		"webshell.test/distroless": {
			programs:    map[string][]string{"sleep": {"sleep"}, "cat": {"cat"}},
			defaultArgv: []string{"sleep", "infinity"},
		},
	}
}

// hostDirs is where host programs are looked up; the node's own PATH is not
// used so the result does not depend on how it was started.
var hostDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// image is a known image with its bin directory in place.
type image struct {
	name        string
	binDir      string
	defaultArgv []string
}

// catalog holds the images the node offers.
type catalog struct {
	images map[string]*image
}

// newCatalog (re)creates every image's bin dir under root.
func newCatalog(root string) (*catalog, error) {
	c := &catalog{images: map[string]*image{}}
	for name, spec := range knownImages() {
		binDir := filepath.Join(root, strings.ReplaceAll(name, "/", "_"), "bin")
		if err := os.RemoveAll(binDir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(binDir, 0o755); err != nil {
			return nil, err
		}
		for link, candidates := range spec.programs {
			target := findHostProgram(candidates)
			if target == "" {
				// e.g. ps when procps is missing: the image just lacks it.
				continue
			}
			if err := os.Symlink(target, filepath.Join(binDir, link)); err != nil {
				return nil, fmt.Errorf("failed to link %s into image %s: %w", link, name, err)
			}
		}
		c.images[name] = &image{name: name, binDir: binDir, defaultArgv: spec.defaultArgv}
	}
	return c, nil
}

func findHostProgram(candidates []string) string {
	for _, name := range candidates {
		for _, dir := range hostDirs {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				// Resolve so that e.g. sh -> dash stays dash even if /bin/sh changes.
				if real, err := filepath.EvalSymlinks(p); err == nil {
					return real
				}
				return p
			}
		}
	}
	return ""
}

// lookup finds an image by reference, ignoring a tag or digest.
func (c *catalog) lookup(ref string) (*image, error) {
	name := ref
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	if img, ok := c.images[name]; ok {
		return img, nil
	}
	known := make([]string, 0, len(c.images))
	for k := range c.images {
		known = append(known, k)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("image %q is not known to the webshell test node (known: %s)", ref, strings.Join(known, ", "))
}

// lookPath resolves a command the way a container runtime does: a name with a
// slash is used as is, anything else is searched only in the image's PATH.
// The error text matches runc's, which clients may parse for shell fallback.
func (img *image) lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	p := filepath.Join(img.binDir, name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p, nil
	}
	return "", fmt.Errorf("OCI runtime exec failed: exec failed: unable to start container process: exec: %q: executable file not found in $PATH: unknown", name)
}
