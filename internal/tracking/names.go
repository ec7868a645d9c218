package tracking

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"strconv"
)

// Word lists for generated run names, "<adjective>-<noun>-<number>" as
// MLflow's are. Our own lists; names stay within 20 characters.
var (
	adjectives = []string{
		"able", "agile", "amber", "ample", "bold", "brave", "brisk", "calm", "clean", "clever",
		"crisp", "curious", "daring", "deft", "eager", "early", "earnest", "fair", "fast", "fierce",
		"fond", "gentle", "glad", "grand", "green", "happy", "hardy", "honest", "humble", "jolly",
		"keen", "kind", "lively", "loyal", "lucky", "mellow", "merry", "mighty", "modest", "neat",
		"nimble", "noble", "polite", "proud", "quick", "quiet", "rapid", "ready", "silent", "sleek",
		"smart", "snappy", "steady", "sturdy", "sunny", "swift", "tidy", "upbeat", "vivid", "warm",
		"wise", "witty", "zesty",
	}
	nouns = []string{
		"ant", "badger", "bat", "bear", "bee", "bird", "bison", "boar", "cat", "colt",
		"crab", "crane", "crow", "deer", "doe", "dog", "dove", "duck", "eagle", "eel",
		"elk", "finch", "fish", "fox", "frog", "gnat", "goat", "goose", "hare", "hawk",
		"hen", "heron", "horse", "ibis", "jay", "koala", "lamb", "lark", "lion", "lynx",
		"mink", "mole", "moose", "moth", "mule", "newt", "otter", "owl", "ox", "panda",
		"pig", "pony", "quail", "ram", "rat", "raven", "robin", "seal", "shark", "sheep",
		"slug", "snail", "squid", "stag", "swan", "tern", "toad", "trout", "vole", "wasp",
		"whale", "wolf", "wren", "yak", "zebra",
	}
)

func randIntn(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

// RandomRunName returns a name such as "swift-otter-417".
func RandomRunName() string {
	return adjectives[randIntn(len(adjectives))] + "-" + nouns[randIntn(len(nouns))] + "-" + strconv.Itoa(randIntn(1000))
}

// NewID returns 32 lowercase hex characters, like Python's uuid4().hex.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return hex.EncodeToString(b[:])
}
