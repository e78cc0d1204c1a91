package convert

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DatasetsEnv names the environment variable holding the dataset folder.
const DatasetsEnv = "KPI_DATASETS"

// ErrNoDataset means a dataset file is not where [Dataset] looks.
var ErrNoDataset = errors.New("dataset not found")

// Dataset returns the path of the dataset file name: in the folder $KPI_DATASETS
// when that is set, else in ../shared/datasets beside the repository root
// (the nearest folder above the working directory that holds go.mod). It
// returns an error wrapping [ErrNoDataset] that says where to put the file
// when it is missing.
func Dataset(name string) (string, error) {
	dir := os.Getenv(DatasetsEnv)
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", fmt.Errorf("%w: %v; set %s to the folder holding %s",
				ErrNoDataset, err, DatasetsEnv, name)
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "datasets")
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w: %s missing: put it there or set %s to the folder holding it",
			ErrNoDataset, path, DatasetsEnv)
	}
	return path, nil
}

// repoRoot finds the nearest folder above the working directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
