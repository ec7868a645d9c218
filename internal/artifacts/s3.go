package artifacts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3 stores artifacts in an S3 bucket (AWS or any S3-compatible store)
// under a key prefix.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	prefix  string // "" or ending in "/"
	// partSize is the size of the parts Put sends for a stream larger than
	// one part (S3 needs at least 5 MiB except for the last part).
	partSize int
}

var (
	_ Store         = (*S3)(nil)
	_ PartPresigner = (*S3)(nil)
)

// S3Options configure the S3 client; empty fields fall back to the AWS
// SDK's own sources (AWS_* environment, shared config files, instance roles).
type S3Options struct {
	// Endpoint of an S3-compatible store, e.g. http://minio:9000; it
	// turns on path-style addressing.
	Endpoint string
	// Region; "us-east-1" when nothing else gives one.
	Region string
	// Static credentials, when set.
	AccessKeyID, SecretAccessKey, SessionToken string
	// PathStyle forces path-style addressing without an endpoint.
	PathStyle bool
}

// S3OptionsFromEnv reads the variables MLflow and the AWS tools use:
// MLFLOW_S3_ENDPOINT_URL or AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL,
// AWS_REGION or AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
func S3OptionsFromEnv(getenv func(string) string) S3Options {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return S3Options{
		Endpoint:        first("MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		Region:          first("AWS_REGION", "AWS_DEFAULT_REGION"),
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
	}
}

// NewS3 returns the store for uri, "s3://bucket[/prefix]".
func NewS3(ctx context.Context, uri string, o S3Options) (*S3, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("artifacts destination %q: want s3://bucket/prefix", uri)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	var loads []func(*awsconfig.LoadOptions) error
	if o.Region != "" {
		loads = append(loads, awsconfig.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" {
		loads = append(loads, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, o.SessionToken)))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("s3 config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	// S3-compatible stores do not all know the newer default checksums.
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
		}
		if o.PathStyle {
			so.UsePathStyle = true
		}
	})
	return &S3{client: client, presign: s3.NewPresignClient(client), bucket: u.Host, prefix: prefix, partSize: 8 << 20}, nil
}

// String names the bucket and prefix.
func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

func (s *S3) key(p string) string { return s.prefix + p }

// mapErr turns S3's "no such key / upload" into ErrNotFound.
func (s *S3) mapErr(err error) error {
	var nsk *types.NoSuchKey
	var nsu *types.NoSuchUpload
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &nsu) {
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchUpload":
			return fmt.Errorf("%w: %v", ErrNotFound, err)
		case "InvalidPart", "InvalidPartOrder", "EntityTooSmall":
			return fmt.Errorf("%w: %v", ErrInvalidUpload, err)
		}
	}
	return err
}

// Put sends r as one PutObject when it fits in one part, else as a
// multipart upload of partSize parts (one part buffered at a time). S3
// shows an object only once its upload completes.
func (s *S3) Put(ctx context.Context, p string, r io.Reader) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	buf := make([]byte, s.partSize)
	n, err := io.ReadFull(r, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	if n < s.partSize {
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: aws.String(s.key(p)), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		return s.mapErr(err)
	}
	id, err := s.CreateMultipart(ctx, p)
	if err != nil {
		return err
	}
	var parts []Part
	for num := 1; n > 0; num++ {
		etag, err := s.uploadPart(ctx, p, id, num, buf[:n])
		if err != nil {
			_ = s.AbortMultipart(context.WithoutCancel(ctx), p, id)
			return err
		}
		parts = append(parts, Part{Number: num, ETag: etag})
		n, err = io.ReadFull(r, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			_ = s.AbortMultipart(context.WithoutCancel(ctx), p, id)
			return err
		}
	}
	if err := s.CompleteMultipart(ctx, p, id, parts); err != nil {
		_ = s.AbortMultipart(context.WithoutCancel(ctx), p, id)
		return err
	}
	return nil
}

// Get streams the object at p. A missing key that is a "directory" (a
// prefix of other keys) is ErrIsDir.
func (s *S3) Get(ctx context.Context, p string) (io.ReadCloser, int64, error) {
	if err := ValidatePath(p); err != nil {
		return nil, 0, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(p))})
	if err != nil {
		err = s.mapErr(err)
		if errors.Is(err, ErrNotFound) {
			if isDir, derr := s.isDir(ctx, p); derr == nil && isDir {
				return nil, 0, ErrIsDir
			}
		}
		return nil, 0, err
	}
	return out.Body, aws.ToInt64(out.ContentLength), nil
}

func (s *S3) isDir(ctx context.Context, p string) (bool, error) {
	out, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: aws.String(s.key(p) + "/"), MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return false, err
	}
	return len(out.Contents) > 0, nil
}

// List lists the keys directly below dir, with "directories" from the
// common prefixes.
func (s *S3) List(ctx context.Context, dir string) ([]FileInfo, error) {
	if err := validateDir(dir); err != nil {
		return nil, err
	}
	prefix := s.prefix
	if dir != "" {
		prefix = s.key(dir) + "/"
	}
	out := []FileInfo{}
	pg := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: aws.String(prefix), Delimiter: aws.String("/"),
	})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, s.mapErr(err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name != "" && !strings.HasPrefix(name, reservedPrefix) {
				out = append(out, FileInfo{Name: name, IsDir: true})
			}
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			if name != "" && !strings.HasPrefix(name, reservedPrefix) {
				out = append(out, FileInfo{Name: name, Size: aws.ToInt64(o.Size)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes the object at p and every object below p/.
func (s *S3) Delete(ctx context.Context, p string) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(p))}); err != nil {
		if err = s.mapErr(err); !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	pg := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: aws.String(s.key(p) + "/"),
	})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return s.mapErr(err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents)) // ≤ 1000 per page, the DeleteObjects limit
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		if _, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &s.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		}); err != nil {
			return s.mapErr(err)
		}
	}
	return nil
}

// CreateMultipart starts an S3 multipart upload.
func (s *S3) CreateMultipart(ctx context.Context, p string) (string, error) {
	if err := ValidatePath(p); err != nil {
		return "", err
	}
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: aws.String(s.key(p))})
	if err != nil {
		return "", s.mapErr(err)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart reads the part into memory (S3 needs its length and, over
// plain HTTP, a seekable body to sign) and sends it.
func (s *S3) UploadPart(ctx context.Context, p, uploadID string, n int, r io.Reader) (string, error) {
	if err := ValidatePath(p); err != nil {
		return "", err
	}
	if n < 1 || n > 10000 || uploadID == "" {
		return "", fmt.Errorf("%w: part number %d or upload id", ErrInvalidUpload, n)
	}
	b, err := io.ReadAll(io.LimitReader(r, 5<<30+1))
	if err != nil {
		return "", err
	}
	if len(b) > 5<<30 {
		return "", fmt.Errorf("%w: a part is at most 5 GiB", ErrInvalidUpload)
	}
	return s.uploadPart(ctx, p, uploadID, n, b)
}

func (s *S3) uploadPart(ctx context.Context, p, uploadID string, n int, b []byte) (string, error) {
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &s.bucket, Key: aws.String(s.key(p)), UploadId: aws.String(uploadID),
		PartNumber: aws.Int32(int32(n)), Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b))),
	})
	if err != nil {
		return "", s.mapErr(err)
	}
	return aws.ToString(out.ETag), nil
}

// CompleteMultipart completes the S3 upload with the given parts.
func (s *S3) CompleteMultipart(ctx context.Context, p, uploadID string, parts []Part) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	if len(parts) == 0 || uploadID == "" {
		return fmt.Errorf("%w: no parts or no upload id", ErrInvalidUpload)
	}
	cp := make([]types.CompletedPart, len(parts))
	for i, pt := range parts {
		if pt.Number < 1 || pt.Number > 10000 {
			return fmt.Errorf("%w: part number %d", ErrInvalidUpload, pt.Number)
		}
		cp[i] = types.CompletedPart{PartNumber: aws.Int32(int32(pt.Number)), ETag: aws.String(pt.ETag)}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: aws.String(s.key(p)), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: cp},
	})
	return s.mapErr(err)
}

// AbortMultipart aborts the S3 upload.
func (s *S3) AbortMultipart(ctx context.Context, p, uploadID string) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &s.bucket, Key: aws.String(s.key(p)), UploadId: aws.String(uploadID),
	})
	if err = s.mapErr(err); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// PresignPart returns a presigned URL for the client to PUT part n to.
func (s *S3) PresignPart(ctx context.Context, p, uploadID string, n int, ttl time.Duration) (string, map[string]string, error) {
	if err := ValidatePath(p); err != nil {
		return "", nil, err
	}
	req, err := s.presign.PresignUploadPart(ctx, &s3.UploadPartInput{
		Bucket: &s.bucket, Key: aws.String(s.key(p)), UploadId: aws.String(uploadID), PartNumber: aws.Int32(int32(n)),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", nil, err
	}
	headers := map[string]string{}
	for k, v := range req.SignedHeader {
		if len(v) > 0 && !strings.EqualFold(k, "host") {
			headers[k] = v[0]
		}
	}
	return req.URL, headers, nil
}
