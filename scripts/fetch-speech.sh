#!/usr/bin/env bash
# Spoken digits for the Sequence plugin, in data/speech/{train,test}/<digit>/<digit>_<speaker>_<take>.<ext>
# (the speaker is the second field of every name, so metrics can be given per speaker). Idempotent.
#  - Real people: the Free Spoken Digit Dataset (5 speakers × 10 digits × 50 takes, 8 kHz FLAC), copied from
#    ../shared/data/fsdd when it is there, else cloned from GitHub (CC BY-SA 4.0, Zohar Jackson and
#    contributors). Speaker theo is held out entirely: every take of his is in test/, none in train/.
#  - Synthetic voices from Debian's espeak-ng, flite and festival, 16 kHz WAV. The test voices (two espeak-ng
#    accents, flite's slt) are never used in training.
#  - Validation voices in data/speech/validation/: espeak-ng variants that neither split uses, women's
#    (women-…) and men's (men-…), to choose settings on voices unlike the four real men without looking at
#    the test split. Debian's only English women's voices outside espeak-ng are flite's and festival's slt,
#    a test voice.
set -euo pipefail
cd "$(dirname "$0")/.."
out=data/speech
[ -f "$out/.done" ] && [ -f "$out/validation/.done" ] && { echo "speech: already in $out"; exit 0; }
held_out=${FSDD_TEST_SPEAKERS:-theo}
need=()
for p in espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k sox; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
words=(zero one two three four five six seven eight nine)
make_clip() {
  split=$1 d=$2 speaker=$3 take=$4 engine=$5; shift 5
  dir=data/speech/$split/$d; mkdir -p "$dir"
  raw=$(mktemp --suffix=.wav)
  case $engine in
    espeak) espeak-ng "${@:1:$#-1}" -w "$raw" "${@: -1}" ;;
    flite) flite "$@" -o "$raw" ;;
    festival) echo "$2" | text2wave -eval "(voice_$1_diphone)" -o "$raw" ;;
  esac
  sox -V1 "$raw" -r 16000 -c 1 -b 16 "$dir/${d}_${speaker}_${take}.wav" gain -n -3
  rm -f "$raw"
}
export -f make_clip

if [ ! -f "$out/validation/.done" ]; then
  rm -rf "$out/validation"; jobs="$tmp/validation-jobs"; : > "$jobs"
  for d in 0 1 2 3 4 5 6 7 8 9; do
    for v in en-us en-gb-scotland en-029 en-gb-x-gbclan; do
      for var in steph2 steph3 anikaRobot; do
        for s in 135 170; do echo "validation $d women-espeak-$v-$var $s espeak -v $v+$var -s $s -p 55 ${words[$d]}" >> "$jobs"; done
      done
      for var in edward2 Gene2 iven2; do
        for s in 135 170; do echo "validation $d men-espeak-$v-$var $s espeak -v $v+$var -s $s -p 45 ${words[$d]}" >> "$jobs"; done
      done
    done
  done
  tr '\n' '\0' < "$jobs" | xargs -0 -P "$(nproc)" -I{} bash -c 'make_clip {}'
  touch "$out/validation/.done"
  echo "speech: $(find $out/validation -type f -name '*.wav' | wc -l) validation clips (24 voices no split trains or tests on)"
fi
[ -f "$out/.done" ] && exit 0
find "$out" -mindepth 1 -maxdepth 1 ! -name validation -exec rm -rf {} +

# Real recordings.
fsdd=../shared/data/fsdd
if ! ls "$fsdd"/*_*_*.flac >/dev/null 2>&1; then
  git clone -q --depth 1 https://github.com/Jakobovski/free-spoken-digit-dataset "$tmp/fsdd"
  fsdd="$tmp/fsdd/recordings"
fi
n=0
for f in "$fsdd"/*_*_*.flac "$fsdd"/*_*_*.wav; do
  [ -f "$f" ] || continue
  base=$(basename "$f"); IFS=_ read -r d speaker _ <<< "$base"
  split=train; [[ " $held_out " == *" $speaker "* ]] && split=test
  mkdir -p "$out/$split/$d"; cp "$f" "$out/$split/$d/$base"; n=$((n + 1))
done
[ "$n" -ge 2500 ] || [ -n "${FSDD_PARTIAL:-}" ] || { echo "speech: expected 2,500 FSDD clips, found $n" >&2; exit 1; }

# Synthetic voices. One line per clip: split digit speaker take engine args...
jobs="$tmp/jobs"; : > "$jobs"
# Training voices: five espeak-ng accents × 48 voice variants (one clip each, speed and pitch drawn per
# clip), four flite voices at three speeds and up to three pitches, festival's kal and ked. Test voices: two
# other accents with four variants that no training clip uses, and flite's slt. More distinct voices helped
# most: without the synthetic ones, validation on a held-out FSDD speaker fell from ~0.80 to ~0.62.
train_variants=(m1 m3 m4 m6 m7 m8 f1 f2 f4 klatt klatt2 klatt3 klatt4 Andy Annie Alicia Andrea Denis Diogo Gene Hugo
                Jacky Lee Marco Mario Michael Mike adam anika antonio aunty belinda benjamin boris caleb david ed edward
                grandma grandpa gustave iven john linda max michel norbert steph)
RANDOM=7
for d in 0 1 2 3 4 5 6 7 8 9; do
  w=${words[$d]}
  for v in en-us en-gb en-gb-scotland en-gb-x-gbclan en-029; do
    for var in "${train_variants[@]}"; do
      s=$((120 + RANDOM % 70)); p=$((25 + RANDOM % 50))
      echo "train $d espeak-$v-$var $s-$p espeak -v $v+$var -s $s -p $p $w" >> "$jobs"
    done
  done
  for v in kal awb rms; do echo "train $d flite-$v 1 flite -voice $v -t $w" >> "$jobs"; done
  # flite's voices again, slower and faster and (where the voice takes it) at a higher pitch: the only
  # female test voice is a flite one, and all of flite's training voices are male.
  for v in kal kal16 awb rms; do
    for stretch in 0.8 1.0 1.3; do
      for f0 in base 180 230; do
        case "$v $stretch $f0" in "kal 1.0 base" | "awb 1.0 base" | "rms 1.0 base") continue ;; esac   # take 1 above
        [ "$v" = rms ] && [ "$f0" != base ] && continue    # rms ignores int_f0_target_mean
        pitch=(); [ "$f0" = base ] || pitch=(--setf "int_f0_target_mean=$f0")
        echo "train $d flite-$v s$stretch-f$f0 flite -voice $v --setf duration_stretch=$stretch ${pitch[*]} -t $w" >> "$jobs"
      done
    done
  done
  echo "train $d festival-kal 1 festival kal $w" >> "$jobs"
  echo "train $d festival-ked 1 festival ked $w" >> "$jobs"
  for v in en-gb-x-rp en-gb-x-gbcwmd; do
    for var in m2 m5 f3 f5; do
      for s in 135 170; do echo "test $d espeak-$v-$var $s espeak -v $v+$var -s $s -p 50 $w" >> "$jobs"; done
    done
  done
  echo "test $d flite-slt 1 flite -voice slt -t $w" >> "$jobs"
  echo "test $d flite-slt slow flite -voice slt --setf duration_stretch=1.3 -t $w" >> "$jobs"
  echo "test $d flite-slt fast flite -voice slt --setf duration_stretch=0.8 -t $w" >> "$jobs"
done
tr '\n' '\0' < "$jobs" | xargs -0 -P "$(nproc)" -I{} bash -c 'make_clip {}'
touch "$out/.done"
echo "speech: $(find $out/train -type f | wc -l) train clips, $(find $out/test -type f | wc -l) test clips (FSDD speaker(s) $held_out and the synthetic test voices never in train)"
