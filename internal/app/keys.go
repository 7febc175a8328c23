package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"suifang/internal/chain"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// loadKeys builds the patient-data keyring, the blind-index key and the
// chain key. Production sets them (--data-keys, --index-key, --chain-key,
// from a secret store). A SQLite deployment without them gets a key file
// beside the database, created once with mode 0600, so the README's one
// command works (a key file from before chain keys gets a chain_key line
// added); PostgreSQL deployments must configure the data and index keys,
// because several instances have to share them. Without a chain key of its
// own a deployment's chain key is derived from the index key: a secret
// outside the database either way.
func loadKeys(cfg Config, log *slog.Logger) (*pii.Keyring, *pii.Indexer, *chain.Key, error) {
	dataSpec, indexSpec, chainSpec := cfg.DataKeys, cfg.IndexKey, cfg.ChainKey
	if dataSpec == "" || indexSpec == "" {
		if store.IsPostgresURL(cfg.DB) {
			return nil, nil, nil, errors.New("app: PostgreSQL needs --data-keys and --index-key (generate them with 'suifang keys generate')")
		}
		path := cfg.DB + ".keys"
		f, err := readKeyFile(path)
		if errors.Is(err, os.ErrNotExist) {
			if f, err = writeKeyFile(path); err != nil {
				return nil, nil, nil, err
			}
			log.Warn("generated patient-data encryption keys; back this file up with the database, or patient data cannot be read", "file", path)
		} else if err != nil {
			return nil, nil, nil, err
		}
		if f.chain == "" {
			if f.chain, err = addChainKey(path); err != nil {
				return nil, nil, nil, err
			}
			log.Warn("added a chain key to the key file; back it up with the database", "file", path)
		}
		if dataSpec == "" {
			dataSpec = f.data
		}
		if indexSpec == "" {
			indexSpec = f.index
		}
		if chainSpec == "" {
			chainSpec = f.chain
		}
	}
	keys, err := pii.ParseKeyring(dataSpec)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: data keys: %w", err)
	}
	index, err := pii.ParseIndexSecret(indexSpec)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: index key: %w", err)
	}
	var ck *chain.Key
	if chainSpec != "" {
		ck, err = chain.ParseKey(chainSpec)
	} else {
		var secret []byte
		if secret, err = base64.StdEncoding.DecodeString(strings.TrimSpace(indexSpec)); err == nil {
			ck, err = chain.DeriveKey(secret)
		}
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: chain key: %w", err)
	}
	return keys, index, ck, nil
}

// keyFile is the key file's content.
type keyFile struct{ data, index, chain string }

func readKeyFile(path string) (keyFile, error) {
	var f keyFile
	b, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		switch {
		case !ok:
		case k == "data_keys":
			f.data = v
		case k == "index_key":
			f.index = v
		case k == "chain_key":
			f.chain = v
		}
	}
	if f.data == "" || f.index == "" {
		return f, fmt.Errorf("app: key file %s lacks data_keys or index_key", path)
	}
	return f, nil
}

// addChainKey appends a new chain key to a key file written before chain
// keys existed.
func addChainKey(path string) (string, error) {
	k, err := NewIndexKey()
	if err != nil {
		return "", err
	}
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("app: key file: %w", err)
	}
	if _, err := fh.WriteString("chain_key=" + k + "\n"); err != nil {
		fh.Close()
		return "", fmt.Errorf("app: key file: %w", err)
	}
	return k, fh.Close()
}

// NewIndexKey returns a random 32-byte secret in its config form (the
// blind-index key, the chain key).
func NewIndexKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("app: random: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func writeKeyFile(path string) (keyFile, error) {
	var k keyFile
	var err error
	if k.data, err = pii.GenerateKeySpec("k1"); err != nil {
		return k, err
	}
	if k.index, err = NewIndexKey(); err != nil {
		return k, err
	}
	if k.chain, err = NewIndexKey(); err != nil {
		return k, err
	}
	body := "# Suifang patient-data and chain keys. Keep secret; back up with the database.\ndata_keys=" + k.data +
		"\nindex_key=" + k.index + "\nchain_key=" + k.chain + "\n"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return k, fmt.Errorf("app: create key file: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return k, fmt.Errorf("app: write key file: %w", err)
	}
	return k, f.Close()
}
